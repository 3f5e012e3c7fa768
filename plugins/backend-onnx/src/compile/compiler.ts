/**
 * IR program → ONNX model (opset 18, standard domain only).
 *
 * Names: program inputs / fed parameters become ONNX inputs `in:<name>`,
 * program outputs ONNX outputs `out:<name>`, internal values `%<id>`. The
 * prefixes keep a training step's parameter `w` (input) and its update `w`
 * (output) from colliding.
 *
 * Baked parameters (`constants`) become initializers; those of at least
 * `externalThreshold` bytes go to external data "files" that are just views
 * of the caller's buffers (no copy into the protobuf). With `float16Weights`,
 * baked float32 weights are stored as float16 and cast back on load.
 * Parameters given in reduced precision (`quantised`: float16, int8, int4)
 * are lowered by `quantised-weights.ts` (int weights of `x·Wᵀ` run as
 * onnxruntime's `com.microsoft::MatMulNBits`). Bound ones (a
 * `DeviceQuantisedWeight`) become ONNX inputs `param:<name>:codes` /
 * `:scales` (or `:f16`) that every run dequantises: onnxruntime's
 * MatMulNBits is only fast with constant codes it can pre-pack.
 */
import type { BlockQuantisedWeight, DeviceQuantisedWeight, DType, HostTensor, Node as IrNode, NodeId, Program, QuantisedWeight, TensorSpec } from "@refine-af/tensor"
import { BackendCompileError, eliminateDeadCode, hostByteLength, isDeviceQuantised, quantisedPartBytes, sizeOf, UnsupportedOpError } from "@refine-af/tensor"
import type { OnnxElementType, OnnxModel, OnnxTensor, OnnxValueInfo } from "../onnx/model.ts"
import { encodeModel } from "../onnx/model.ts"
import type { ModelBundle } from "../runtime/providers.ts"
import { hostBytes, encodeValues } from "./constants.ts"
import { LoweringContext, onnxType } from "./context.ts"
import { toFloat16Bytes } from "./float16-weights.ts"
import { consumersOf, planFusions, planTransposedCopies, planTransposedRight, planWeightLeft, unreadTransposes, type RotaryFusion, type WeightLeftFrom, type WeightProduct } from "./fusions.ts"
import { lowerings } from "./lowerings/index.ts"
import { emitLogSoftmaxDecomposed } from "./lowerings/reduce.ts"
import { tiedShape } from "./ties.ts"
import { addQuantisedInitializers, bytesOf, emitDequantised, emitTiledDequantised, heldDims, emitMatMulNBits, emitWidened, MICROSOFT_DOMAIN, planQuantised, tiledParts, type QuantisedMatMul, type TiledSource } from "./quantised-weights.ts"
import { bytesNow, fileHolds, inMemoryInitializer, lengthOf, mappedInitializer, readStoredBytes, storedPartsHeld, type InitializerBytes, type MappedInitializers, type StoredBytes } from "./mapped.ts"
import type { Lowering } from "./lowerings/types.ts"

/** ONNX opset of the standard domain we emit. */
export const OPSET = 18
/** ONNX IR version matching {@link OPSET}. */
export const IR_VERSION = 8

/** Compiler settings. */
export interface CompilerSettings {
  /** Baked weights at least this large (bytes) go to external data instead of the protobuf. */
  readonly externalThreshold: number
  /** Store baked float32 weights as float16 (halves model memory; values rounded to half). */
  readonly float16Weights: boolean
  /** How int8 / int4 weights of `x·Wᵀ` run: `auto` = `nbits-int8` (default: MatMulNBits, int8 activations), `nbits` (float32 activations) or `dequantize` (DequantizeLinear + MatMul). */
  readonly quantisedMatMul?: QuantisedMatMul
  /** Emit known subgraphs (RMSNorm) as one onnxruntime kernel (default true; see `fusions.ts`). */
  readonly fuse?: boolean
  /** Compute `x·Wᵀ` with a bound weight and 4-32 rows of x as `(W·xᵀ)ᵀ` (default true; see `fusions.ts`). */
  readonly weightLeft?: boolean
  /** From fewer rows than 4 at some inner sizes (`WeightLeftFrom`; default none: 4 at every K). */
  readonly weightLeftFrom?: WeightLeftFrom
  /** Read large short-K bound weights at 1-3 rows through a [K, N] copy the backend makes once (default true; see `planTransposedCopies`). */
  readonly transposedCopies?: boolean
  /** Emit log-softmax as max-shifted elementwise ops and reductions (for WebGPU, which has no LogSoftmax kernel; see `emitLogSoftmaxDecomposed`). */
  readonly decomposeLogSoftmax?: boolean
}

/** The compiled model, its external data, and what it is fed / returns (program names). */
export interface CompiledModel {
  readonly bundle: ModelBundle
  /** The model `bundle` encodes (its external initializers point into `bundle.externalData`); grouped compiles merge these. */
  readonly onnx: OnnxModel
  readonly feeds: ReadonlyArray<TensorSpec>
  readonly outputs: ReadonlyArray<TensorSpec>
  /** ONNX inputs of bound quantised weights: the parameter, which stored part, and the input's name. */
  readonly quantisedInputs: ReadonlyArray<QuantisedInput>
  /** ONNX inputs fed the [K, N] copy of a bound weight W [N, K] (`planTransposedCopies`). */
  readonly transposedInputs: ReadonlyArray<{ readonly parameter: string; readonly onnxName: string }>
  /** Initializers the session maps from files (`bundle.folder`), with their bytes. */
  readonly mapped?: MappedInitializers
}

/** One stored part of a bound quantised weight, fed as an ONNX input. */
export interface QuantisedInput {
  readonly parameter: string
  readonly part: QuantisedPart
  readonly onnxName: string
}

/** The stored parts of a quantised weight: int codes and scales, or float16 values. */
export type QuantisedPart = "codes" | "scales" | "f16"

/** ONNX input name of a feed. */
export const onnxInputName = (name: string): string => `in:${name}`
/** ONNX input name of the [K, N] copy of a bound weight. */
export const transposedInputName = (name: string): string => `kn:${name}`
/** ONNX output name of a program output. */
export const onnxOutputName = (name: string): string => `out:${name}`

const BACKEND = "onnx"
/** Constant broadcasts of at least this many elements (1 MiB at float32) stay run-time values instead of being folded by onnxruntime. */
const FOLDED_EXPAND_LIMIT = 1 << 18

const checkConstant = (name: string, spec: { dtype: DType; shape: ReadonlyArray<number> }, value: Pick<HostTensor, "dtype" | "shape">): void => {
  const same = value.dtype === spec.dtype && value.shape.length === spec.shape.length && value.shape.every((d, i) => d === spec.shape[i])
  if (!same) {
    throw new BackendCompileError({
      backend: BACKEND,
      message: `constant for parameter "${name}" is ${value.dtype}[${value.shape.join(",")}] but the program declares ${spec.dtype}[${spec.shape.join(",")}]; pass a tensor of the declared dtype and shape`
    })
  }
}

/** Compiles a program; throws `UnsupportedOpError` / `BackendCompileError`. */
export const compileProgram = (
  source: Program,
  constants: Readonly<Record<string, HostTensor>>,
  settings: CompilerSettings,
  given: Readonly<Record<string, QuantisedWeight | DeviceQuantisedWeight>> = {},
  rotaryTables: ReadonlyArray<string> = [],
  bound: ReadonlyArray<string> = [],
  readStored = false,
  tiled: ReadonlyMap<string, TiledSource> = new Map(),
  asIsNames: ReadonlyArray<string> = []
): CompiledModel => {
  // Baked quantised weights may run as MatMulNBits; bound ones are always dequantised in the graph, and so are
  // baked ones read from their stored copy (`readStored`: mapped initializers, nothing pre-packed).
  const quantised: Record<string, QuantisedWeight> = {}
  const boundQuantised: Record<string, DeviceQuantisedWeight> = {}
  const fromFiles: Record<string, BlockQuantisedWeight> = {}
  // Whether a stored copy holds its bytes on disk (each file's size read once per compile).
  const holdsBytes = fileHolds()
  for (const [name, weight] of Object.entries(given)) {
    if (isDeviceQuantised(weight)) boundQuantised[name] = weight
    else if (readStored && weight.scheme !== "float16" && storedPartsHeld(holdsBytes, weight)) fromFiles[name] = weight
    else quantised[name] = weight
  }
  // Dead nodes would become unused initializers / nodes that onnxruntime warns about and drops.
  const program = eliminateDeadCode(source)
  const declared = new Set(program.parameters.map((p) => p.name))
  for (const name of [...Object.keys(constants), ...Object.keys(given)]) {
    if (!declared.has(name)) {
      throw new BackendCompileError({ backend: BACKEND, message: `constant "${name}" names no parameter of the program (parameters: ${[...declared].join(", ") || "none"}); fix the name or drop it` })
    }
    if (constants[name] !== undefined && given[name] !== undefined) {
      throw new BackendCompileError({ backend: BACKEND, message: `parameter "${name}" is given both as a constant and as a quantised weight; pass it in one of them` })
    }
  }
  const plan = planQuantised(program, quantised, settings.quantisedMatMul ?? "auto")
  const fusions = planFusions(program, settings.fuse ?? true, new Set(rotaryTables))
  // Constants mapped from their stored copy; with `readStored` (or named in `asIsNames`), used as they are (no
  // folding, no pre-packing).
  const mappedConstants = new Set(Object.entries(constants).filter(([, value]) => value.stored !== undefined && !(settings.float16Weights && value.dtype === "float32") && holdsBytes(value.stored, hostByteLength(value))).map(([name]) => name))
  const readAsIs = readStored ? mappedConstants : new Set(asIsNames.filter((name) => mappedConstants.has(name)))
  // Fed parameters, bound quantised ones (dequantised each run) and constants read as they are: none is a constant
  // onnxruntime pre-packs.
  const fedParameters = new Set(program.parameters.filter((p) => (constants[p.name] === undefined || readAsIs.has(p.name)) && quantised[p.name] === undefined).map((p) => p.id))
  const weightLeft = planWeightLeft(program, (id) => fedParameters.has(id), settings.weightLeft ?? true, settings.weightLeftFrom)
  // Weights the backend holds (CompileOptions.weights): only those can have a shared [K, N] copy.
  const boundNames = new Set(bound)
  const boundIds = new Set(program.parameters.filter((p) => boundNames.has(p.name) && fedParameters.has(p.id)).map((p) => p.id))
  const transposedCopies = planTransposedCopies(program, (id) => boundIds.has(id), settings.transposedCopies ?? true)
  // x·Wᵀ on a mapped constant, outside the weight-left rows: Gemm with transB, never a Transpose of W, which
  // onnxruntime turns into a transposed copy of W at session creation (measured, 1.1B int4 cached: +958 MiB for a
  // batch-8 prefill reading the head as it is; one copy per branch of a session group, where a Gemm's pre-packed
  // form is one copy for every branch).
  const storedIds = new Set(program.parameters.filter((p) => mappedConstants.has(p.name)).map((p) => p.id))
  const transposedRight = new Map([...planTransposedRight(program, (id) => storedIds.has(id))].filter(([id]) => !weightLeft.has(id)))
  const rewrittenTransposes = unreadTransposes(program, new Set([...weightLeft.keys(), ...transposedCopies.keys(), ...transposedRight.keys()]))
  // ONNX input of each copied weight's [K, N] copy, by the weight's node id.
  const copyInputs = new Map<NodeId, string>()
  for (const { weight } of transposedCopies.values()) copyInputs.set(weight, transposedInputName(program.parameters.find((p) => p.id === weight)!.name))
  const ctx = new LoweringContext()
  const graphInputs: Array<OnnxValueInfo> = []
  const feeds: Array<TensorSpec> = []
  const externalData: Array<{ path: string; data: Uint8Array }> = []
  const quantisedInputs: Array<QuantisedInput> = []
  // Bound weights below float32: each reader gets its own float32 copy, made just before it (a training
  // program's backward pass dequantises again instead of keeping every float32 weight alive from the forward).
  const dequantisedPerReader = new Map<NodeId, (output: string, after: string | undefined) => void>()
  // Readers are only looked up for bound weights below float32.
  const consumers = Object.keys(boundQuantised).length + Object.keys(fromFiles).length > 0 ? consumersOf(program) : new Map<NodeId, Array<{ node: NodeId; slot: number }>>()
  // The activation a bound weight is multiplied with at `reader` (a MatMul, or a Transpose feeding one), if already computed.
  const activationAt = (reader: IrNode, weightLeftX: NodeId | undefined): string | undefined => {
    const matmul = reader.op === "Transpose" ? program.nodes[consumers.get(reader.id)?.find((c) => program.nodes[c.node]!.op === "MatMul")?.node ?? -1] : reader
    const other = weightLeftX ?? (matmul?.op === "MatMul" ? matmul.inputs.find((i) => program.nodes[i]!.op !== "Parameter" && program.nodes[i]!.op !== "Transpose") : undefined)
    return other !== undefined && other < reader.id ? ctx.name(other) : undefined
  }

  // Baked bytes that also lie in an immutable file are mapped by onnxruntime from there (compile/mapped.ts).
  const mapped = new Map<string, InitializerBytes>()
  let folder: string | undefined
  const addInitializer = (name: string, dataType: OnnxElementType, dims: ReadonlyArray<number>, bytes: InitializerBytes, stored?: StoredBytes): void => {
    if (stored !== undefined && (folder ?? stored.folder) === stored.folder && holdsBytes(stored, lengthOf(bytes))) {
      folder = stored.folder
      mapped.set(name, bytes)
      ctx.initializers.push(mappedInitializer({ name, dataType, dims }, stored, lengthOf(bytes)))
    } else if (lengthOf(bytes) >= settings.externalThreshold) {
      ctx.initializers.push(inMemoryInitializer({ name, dataType, dims }, bytesNow(bytes), externalData))
    } else {
      ctx.initializers.push({ name, dataType, dims, raw: bytesNow(bytes) } satisfies OnnxTensor)
    }
  }

  for (const input of program.inputs) {
    const node = program.nodes[input.id]!
    ctx.bind(input.id, onnxInputName(input.name))
    graphInputs.push({ name: onnxInputName(input.name), dataType: onnxType(node.dtype), dims: node.shape })
    feeds.push({ name: input.name, dtype: node.dtype, shape: node.shape })
  }
  for (const parameter of program.parameters) {
    const node = program.nodes[parameter.id]!
    const value = constants[parameter.name]
    const fromFile = fromFiles[parameter.name]
    if (fromFile !== undefined) {
      // Mapped from its stored copy in the held layout (the same bytes), dequantised at each reader; the codes are
      // tied to an activation so that onnxruntime does not fold their unpacking into constants of its own.
      checkConstant(parameter.name, node, { dtype: "float32", shape: fromFile.shape })
      const name = `param:${parameter.name}`
      const stored = fromFile.stored!
      // Read from the decode steps' pre-packed blob where the store holds one in a known layout (`tiled`): one copy
      // of the weight resident for both.
      const source = tiled.get(parameter.name)
      if (source !== undefined && graphInputs.length > 0) {
        for (const part of tiledParts(name, fromFile).parts) {
          const at = { folder: stored.folder, file: source.file, offset: part.at(source) }
          addInitializer(part.name, part.dataType, part.dims, { length: part.bytes, read: () => readStoredBytes(at, part.bytes) }, at)
        }
        dequantisedPerReader.set(parameter.id, (output, after) => emitTiledDequantised(ctx, name, fromFile, output, after ?? anchor!))
        ctx.bind(parameter.id, name)
        continue
      }
      const dims = heldDims(fromFile)
      const parts = quantisedPartBytes(fromFile)
      addInitializer(`${name}:codes`, "uint8", dims.codes, { length: parts.codes, read: () => fromFile.codes }, { folder: stored.folder, file: stored.file, offset: stored.codesOffset })
      addInitializer(`${name}:scales`, "float32", dims.scales, { length: parts.scales, read: () => bytesOf(fromFile.scales) }, { folder: stored.folder, file: stored.file, offset: stored.scalesOffset })
      dequantisedPerReader.set(parameter.id, (output, after) => emitDequantised(ctx, name, fromFile, output, after ?? anchor, "held", true))
      ctx.bind(parameter.id, name)
      continue
    }
    const held = boundQuantised[parameter.name]
    if (held !== undefined) {
      checkConstant(parameter.name, node, { dtype: "float32", shape: held.shape })
      const name = `param:${parameter.name}`
      const input = (part: QuantisedPart, dataType: OnnxElementType, dims: ReadonlyArray<number>) => {
        quantisedInputs.push({ parameter: parameter.name, part, onnxName: `${name}:${part}` })
        graphInputs.push({ name: `${name}:${part}`, dataType, dims })
      }
      if (held.scheme === "float16") {
        input("f16", "float16", node.shape)
        dequantisedPerReader.set(parameter.id, (output, after) => emitWidened(ctx, `${name}:f16`, node.shape, output, after))
      } else {
        const layout = heldLayout(held)
        const stored = heldDims(layout)
        input("codes", "uint8", stored.codes)
        input("scales", "float32", stored.scales)
        // Dequantised for each node that reads it, after the activation it multiplies (see `emitDequantised`).
        dequantisedPerReader.set(parameter.id, (output, after) => emitDequantised(ctx, name, layout, output, after, "held"))
      }
      ctx.bind(parameter.id, name)
      continue
    }
    const reduced = quantised[parameter.name]
    if (reduced !== undefined) {
      checkConstant(parameter.name, node, { dtype: "float32", shape: reduced.shape })
      const name = `param:${parameter.name}`
      if (reduced.scheme === "float16") {
        addInitializer(`${name}:f16`, "float16", node.shape, new Uint8Array(reduced.data.buffer, reduced.data.byteOffset, reduced.data.byteLength))
        ctx.emit("Cast", [`${name}:f16`], [name], [{ name: "to", int: 1 }])
      } else {
        addQuantisedInitializers(name, reduced, addInitializer)
        if (plan.dequantised.has(parameter.name)) emitDequantised(ctx, name, reduced, name)
      }
      ctx.bind(parameter.id, name)
      continue
    }
    if (value === undefined) {
      ctx.bind(parameter.id, onnxInputName(parameter.name))
      graphInputs.push({ name: onnxInputName(parameter.name), dataType: onnxType(node.dtype), dims: node.shape })
      feeds.push({ name: parameter.name, dtype: node.dtype, shape: node.shape })
      continue
    }
    checkConstant(parameter.name, node, value)
    const name = `param:${parameter.name}`
    if (settings.float16Weights && node.dtype === "float32") {
      addInitializer(`${name}:f16`, "float16", node.shape, toFloat16Bytes(value.data as Float32Array))
      ctx.emit("Cast", [`${name}:f16`], [name], [{ name: "to", int: 1 }])
    } else if (value.stored !== undefined) {
      // Mapped from its stored copy when the file holds it; its values are read only if it must be held in memory.
      addInitializer(name, onnxType(node.dtype), node.shape, { length: hostByteLength(value), read: () => hostBytes(value) }, value.stored)
    } else {
      addInitializer(name, onnxType(node.dtype), node.shape, hostBytes(value))
    }
    ctx.bind(parameter.id, name)
  }

  const transposedInputs: Array<{ parameter: string; onnxName: string }> = []
  for (const [id, onnxName] of copyInputs) {
    const [n, k] = program.nodes[id]!.shape as [number, number]
    graphInputs.push({ name: onnxName, dataType: "float32", dims: [k, n] })
    transposedInputs.push({ parameter: program.parameters.find((p) => p.id === id)!.name, onnxName })
  }

  // Rotary caches and position ids, made once per table / shape and shared by every fused rotary.
  const rotaryCaches = new Map<string, string>()

  // Name the first output of each computed node after it, so no copy is needed.
  const late: Array<{ id: number; name: string }> = []
  const claimed = new Set<number>()
  for (const output of program.outputs) {
    const node = program.nodes[output.id]!
    const leaf = node.op === "Input" || node.op === "Parameter"
    if (!leaf && !claimed.has(output.id)) {
      claimed.add(output.id)
      ctx.bind(output.id, onnxOutputName(output.name))
    } else late.push({ id: output.id, name: onnxOutputName(output.name) })
  }

  // Values computed from constants alone, and a graph input to tie large ones to (see `ties.ts`).
  const fromConstants = new Set<NodeId>()
  const anchor = graphInputs[0]?.name
  for (const node of program.nodes) {
    if (node.op === "Input" || node.op === "Parameter") continue
    if (node.op === "Constant") {
      fromConstants.add(node.id)
      if (fusions.skipped.has(node.id)) continue
      ctx.initializers.push({ name: ctx.name(node.id), dataType: onnxType(node.dtype), dims: node.shape, raw: encodeValues(node.dtype, node.attrs.value) })
      continue
    }
    // A large broadcast of constants (the zeros a gather's gradient scatters into: batch × length × vocabulary)
    // would be folded into an initializer the session keeps; tied, it exists only while it is used.
    const constantOnly = node.inputs.every((i) => fromConstants.has(i))
    const tied = constantOnly && node.op === "Expand" && anchor !== undefined && sizeOf(node.shape) >= FOLDED_EXPAND_LIMIT
    if (constantOnly && !tied) fromConstants.add(node.id)
    if (plan.skipped.has(node.id) || fusions.skipped.has(node.id) || rewrittenTransposes.has(node.id)) continue
    if (tied && node.op === "Expand" && anchor !== undefined) {
      ctx.emit("Expand", [...ctx.inputs(node), tiedShape(ctx, node.attrs.shape, anchor)], [ctx.name(node.id)])
      continue
    }
    const copy = transposedCopies.get(node.id)
    if (copy !== undefined) {
      ctx.emit("MatMul", [ctx.name(copy.x), copyInputs.get(copy.weight)!], [ctx.name(node.id)])
      continue
    }
    const left = weightLeft.get(node.id)
    for (const input of new Set(left !== undefined ? [left.weight] : node.inputs)) {
      const emit = dequantisedPerReader.get(input)
      if (emit === undefined) continue
      const output = ctx.temp("dequantisedWeight")
      emit(output, activationAt(node, left?.x))
      ctx.bind(input, output)
    }
    if (left !== undefined) {
      emitWeightLeft(ctx, left, program.nodes[left.x]!.shape, node.shape, ctx.name(node.id))
      continue
    }
    const right = transposedRight.get(node.id)
    if (right !== undefined) {
      emitTransposedRight(ctx, right, program.nodes[right.x]!.shape, node.shape, ctx.name(node.id))
      continue
    }
    const rmsNorm = fusions.rmsNorms.get(node.id)
    if (rmsNorm !== undefined) {
      ctx.emit("SimplifiedLayerNormalization", [ctx.name(rmsNorm.x), ctx.name(rmsNorm.weight)], [ctx.name(node.id)], [
        { name: "axis", int: -1 },
        { name: "epsilon", float: rmsNorm.epsilon },
        { name: "stash_type", int: 1 }
      ])
      continue
    }
    const rotary = fusions.rotaries.get(node.id)
    if (rotary !== undefined) {
      emitRotary(ctx, rotary, program.nodes[rotary.cos]!.shape, rotaryCaches, ctx.name(node.id))
      continue
    }
    const fusedWeight = plan.fused.get(node.id)
    if (fusedWeight !== undefined) {
      emitMatMulNBits(ctx, ctx.name(node.inputs[0]!), `param:${fusedWeight}`, quantised[fusedWeight] as Parameters<typeof emitMatMulNBits>[3], ctx.name(node.id), settings.quantisedMatMul ?? "auto")
      continue
    }
    if (node.op === "LogSoftmax" && settings.decomposeLogSoftmax === true) {
      emitLogSoftmaxDecomposed(node, ctx)
      continue
    }
    const lower = lowerings[node.op] as Lowering<typeof node.op> | undefined
    if (lower === undefined) {
      throw new UnsupportedOpError({ backend: BACKEND, op: node.op, message: `backend-onnx has no lowering for ${node.op}; add one in plugins/backend-onnx/src/compile/lowerings/` })
    }
    lower(node as never, ctx)
  }
  // A bound weight that is a program output itself.
  for (const { id } of late) {
    const emit = dequantisedPerReader.get(id)
    if (emit === undefined) continue
    const output = ctx.temp("dequantisedWeight")
    emit(output, undefined)
    ctx.bind(id, output)
  }
  for (const { id, name } of late) ctx.emit("Identity", [ctx.name(id)], [name])

  const outputs = program.outputs.map((o) => {
    const node = program.nodes[o.id]!
    return { name: o.name, dtype: node.dtype, shape: node.shape }
  })
  // A session with in-memory external data maps nothing (compile/mapped.ts).
  const mapping = folder !== undefined && externalData.length === 0
  // Constants read as they are: onnxruntime must not fold a transpose of one into a copy or pre-pack one. With
  // `readStored` the session gives up folding and pre-packing altogether; constants named beside others that it
  // pre-packs (quantised weights) are graph inputs too, onnxruntime's overridable initializers, which it neither folds
  // nor pre-packs (measured, a mapped 32000 × 2048 head read by Gemm(transB): +258 MiB anonymous as a constant, +15
  // MiB as an overridable initializer, as with pre-packing off; the same one-row time).
  const asIs = mapping && readStored && readAsIs.size > 0
  const asIsInitializers = new Set(mapping && !readStored ? [...readAsIs].map((name) => `param:${name}`) : [])
  const overridable = ctx.initializers.filter((t) => asIsInitializers.has(t.name)).map((t): OnnxValueInfo => ({ name: t.name, dataType: t.dataType, dims: t.dims }))
  const initializers = mapping ? ctx.initializers : ctx.initializers.map((t) => (mapped.has(t.name) ? inMemoryInitializer(t, bytesNow(mapped.get(t.name)!), externalData) : t))
  const onnx: OnnxModel = {
    irVersion: IR_VERSION,
    opsetVersion: OPSET,
    ...(plan.fused.size > 0 || fusions.rotaries.size > 0 ? { extraOpsets: [MICROSOFT_DOMAIN] } : {}),
    producerName: "refine-af/backend-onnx",
    graph: {
      name: "program",
      nodes: ctx.nodes,
      inputs: [...graphInputs, ...overridable],
      outputs: outputs.map((o) => ({ name: onnxOutputName(o.name), dataType: onnxType(o.dtype), dims: o.shape })),
      initializers
    }
  }
  return {
    bundle: { bytes: encodeModel(onnx), externalData, ...(mapping ? { folder } : {}), ...(asIs ? { mappedAsIs: true } : {}), ...(overridable.length > 0 ? { overridableInitializers: true } : {}) },
    onnx,
    feeds,
    outputs,
    quantisedInputs,
    transposedInputs,
    ...(mapping ? { mapped: { folder: folder!, bytes: mapped } } : {})
  }
}

/** The layout of a bound int weight (what `emitDequantised` reads). */
const heldLayout = (held: DeviceQuantisedWeight): Pick<BlockQuantisedWeight, "scheme" | "shape" | "blockSize"> => {
  if (held.scheme === "float16" || held.blockSize === undefined) {
    throw new BackendCompileError({ backend: BACKEND, message: `bound quantised weight (${held.scheme}) has no block size; pass the weight \`uploadQuantised\` returned` })
  }
  return { scheme: held.scheme, shape: held.shape, blockSize: held.blockSize }
}

/**
 * `com.microsoft::RotaryEmbedding` over x [B, heads, S, D] with per-token
 * tables [B, S, D]: the caches are the tables' first halves as [B·S, D/2] and
 * token (b, s) reads row b·S + s.
 */
const emitRotary = (ctx: LoweringContext, rotary: RotaryFusion, tableShape: ReadonlyArray<number>, memo: Map<string, string>, out: string): void => {
  const [b, s, d] = tableShape as [number, number, number]
  const once = (key: string, make: () => string) => {
    const known = memo.get(key)
    if (known !== undefined) return known
    const made = make()
    memo.set(key, made)
    return made
  }
  const cache = (table: NodeId) =>
    once(`table:${table}`, () => {
      const half = ctx.temp("rotaryHalf")
      ctx.emit("Slice", [ctx.name(table), ctx.int64s("starts", [0]), ctx.int64s("ends", [d / 2]), ctx.int64s("axes", [2])], [half])
      const flat = ctx.temp("rotaryCache")
      ctx.emit("Reshape", [half, ctx.int64s("shape", [b * s, d / 2])], [flat])
      return flat
    })
  const positions = once(`positions:${b}x${s}`, () => ctx.constant("rotaryPositions", "int64", [b, s], Array.from({ length: b * s }, (_, i) => i)))
  ctx.nodes.push({ opType: "RotaryEmbedding", domain: MICROSOFT_DOMAIN.domain, inputs: [ctx.name(rotary.x), positions, cache(rotary.cos), cache(rotary.sin)], outputs: [out], attributes: [{ name: "interleaved", int: 0 }] })
}

/** `(W·xᵀ)ᵀ` for x [..., K] (flattened to [rows, K] and back). */
const emitWeightLeft = (ctx: LoweringContext, left: WeightProduct, xShape: ReadonlyArray<number>, outShape: ReadonlyArray<number>, out: string): void => {
  const k = xShape[xShape.length - 1]!
  let x = ctx.name(left.x)
  if (xShape.length > 2) {
    const flat = ctx.temp("rows")
    ctx.emit("Reshape", [x, ctx.int64s("shape", [left.rows, k])], [flat])
    x = flat
  }
  const xt = ctx.temp("xT")
  ctx.emit("Transpose", [x], [xt], [{ name: "perm", ints: [1, 0] }])
  const yt = ctx.temp("yT")
  ctx.emit("MatMul", [ctx.name(left.weight), xt], [yt])
  if (outShape.length === 2) {
    ctx.emit("Transpose", [yt], [out], [{ name: "perm", ints: [1, 0] }])
    return
  }
  const y = ctx.temp("y")
  ctx.emit("Transpose", [yt], [y], [{ name: "perm", ints: [1, 0] }])
  ctx.emit("Reshape", [y, ctx.int64s("shape", outShape)], [out])
}

/** `x·Wᵀ` as `Gemm(x, W, transB = 1)` for x [..., K] (flattened to [rows, K] and back). */
const emitTransposedRight = (ctx: LoweringContext, product: WeightProduct, xShape: ReadonlyArray<number>, outShape: ReadonlyArray<number>, out: string): void => {
  const k = xShape[xShape.length - 1]!
  const transB = [{ name: "transB", int: 1 }]
  if (xShape.length === 2) {
    ctx.emit("Gemm", [ctx.name(product.x), ctx.name(product.weight)], [out], transB)
    return
  }
  const flat = ctx.temp("rows")
  ctx.emit("Reshape", [ctx.name(product.x), ctx.int64s("shape", [product.rows, k])], [flat])
  const y = ctx.temp("y")
  ctx.emit("Gemm", [flat, ctx.name(product.weight)], [y], transB)
  ctx.emit("Reshape", [y, ctx.int64s("shape", outShape)], [out])
}

/** Number of elements of a spec (re-exported for runtime feed checks). */
export const specSize = (spec: TensorSpec): number => sizeOf(spec.shape)
