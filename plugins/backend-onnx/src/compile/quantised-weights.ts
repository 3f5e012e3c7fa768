/**
 * Baking frozen weights given in reduced precision (`CompileOptions.quantised`).
 *
 * - float16: a float16 initializer and a Cast to float32.
 * - int8 / int4 block-wise, used only as `x·Wᵀ`
 *   (the parameter's every use is a rank-2 Transpose feeding the right side of
 *   MatMuls): each such MatMul becomes onnxruntime's contrib op
 *   `com.microsoft::MatMulNBits`, which reads the packed codes directly.
 * - any other use (a training program's backward pass reads `W` untransposed,
 *   or `quantisedMatMul: "dequantize"`): the float32 weight is rebuilt in the
 *   graph with the standard `DequantizeLinear` (per-axis over rows of one
 *   block, so it is block-wise at opset 18) after unpacking int4 nibbles;
 *   an int4 weight read from a store's pre-packed blob (`emitTiledDequantised`)
 *   is put back in row order first.
 *
 * MatMulNBits layout (onnxruntime contrib op): `B` uint8 [N, blocks, blob],
 * `scales` [N, blocks] of A's type, no zero points (then 2^(bits-1) is
 * implied), attributes K, N, bits, block_size; `Y = A · dequant(B)ᵀ`. Our
 * `BlockQuantisedWeight` is stored in exactly that layout.
 */
import type { BlockQuantisedWeight, NodeId, Program, QuantisedWeight } from "@refine-af/tensor"
import { blocksPerRow, quantisedPartBytes, schemeBits } from "@refine-af/tensor"
import type { OnnxElementType } from "../onnx/model.ts"
import type { LoweringContext } from "./context.ts"
import { consumersOf } from "./fusions.ts"
import type { InitializerBytes, StoredBytes } from "./mapped.ts"
import { tiedShape, zeroAfter } from "./ties.ts"
import { TILE, UNIT } from "../runtime/prepacked-layout.ts"

/**
 * How int8 / int4 weights feeding `x·Wᵀ` are computed:
 * - `nbits`: MatMulNBits with float32 activations (`accuracy_level` 0): exactly `x · dequant(W)ᵀ`;
 * - `nbits-int8` (the default, `auto`): MatMulNBits with `accuracy_level` 4, activations
 *   quantised to int8 per block inside the kernel: 3–600× faster on CPU (onnxruntime 1.30's
 *   8-bit kernel without it is a slow fallback), a little more logit error;
 * - `dequantize`: DequantizeLinear + MatMul (memory: onnxruntime runs these dependency-free
 *   nodes early, so at peak every float32 weight is alive at once).
 */
export type QuantisedMatMul = "auto" | "nbits" | "nbits-int8" | "dequantize"

/** The contrib-op domain (and its version) MatMulNBits lives in. */
export const MICROSOFT_DOMAIN = { domain: "com.microsoft", version: 1 } as const

/** Adds an initializer (raw or external data) and returns nothing; the compiler owns the policy. */
export type AddInitializer = (name: string, dataType: OnnxElementType, dims: ReadonlyArray<number>, bytes: InitializerBytes, stored?: StoredBytes) => void

/** Which MatMuls read a quantised weight through MatMulNBits, and which Transposes that makes dead. */
export interface QuantisedPlan {
  /** MatMul node → parameter name of its quantised right-hand side. */
  readonly fused: ReadonlyMap<NodeId, string>
  /** Transpose nodes whose only consumers are fused MatMuls. */
  readonly skipped: ReadonlySet<NodeId>
  /** Quantised parameters that also need their float32 value in the graph. */
  readonly dequantised: ReadonlySet<string>
}

/** Plans the lowering of every int-quantised parameter of `program`. */
export const planQuantised = (program: Program, quantised: Readonly<Record<string, QuantisedWeight>>, mode: QuantisedMatMul): QuantisedPlan => {
  const consumers = consumersOf(program)
  const outputs = new Set(program.outputs.map((o) => o.id))
  const fused = new Map<NodeId, string>()
  const skipped = new Set<NodeId>()
  const dequantised = new Set<string>()
  for (const parameter of program.parameters) {
    const weight = quantised[parameter.name]
    if (weight === undefined || weight.scheme === "float16") continue
    const uses = consumers.get(parameter.id) ?? []
    const fusable = mode !== "dequantize" && !outputs.has(parameter.id) && uses.length > 0 && uses.every(({ node: t }) => {
      const transpose = program.nodes[t]!
      if (transpose.op !== "Transpose" || outputs.has(t)) return false
      const perm = (transpose.attrs as { perm: ReadonlyArray<number> }).perm
      if (perm.length !== 2 || perm[0] !== 1 || perm[1] !== 0) return false
      const readers = consumers.get(t) ?? []
      return readers.length > 0 && readers.every(({ node: m, slot }) => program.nodes[m]!.op === "MatMul" && slot === 1)
    })
    if (!fusable) {
      dequantised.add(parameter.name)
      continue
    }
    for (const { node: t } of uses) {
      skipped.add(t)
      for (const { node: m } of consumers.get(t) ?? []) fused.set(m, parameter.name)
    }
  }
  return { fused, skipped, dequantised }
}

export const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/**
 * The shapes a bound (held) int weight's parts are stored and fed with: the
 * same bytes as the MatMulNBits layout, flat, so that dequantising it takes no
 * reshape of either input (every node of a session stays resident in
 * onnxruntime, tens of KiB each; a bound weight is dequantised at each
 * reader): codes [rows·blocks, blob bytes] (int8: the blocks themselves),
 * scales [rows·blocks]. (Int4 codes stored as [rows·blocks, blob, 1], which
 * would spare the two Unsqueezes of the nibble pairing, made a 1.1B decode
 * step 30% slower: onnxruntime's bitwise kernels are slow on a trailing unit
 * axis.)
 */
export const heldDims = (weight: Pick<BlockQuantisedWeight, "scheme" | "shape" | "blockSize">): { readonly codes: ReadonlyArray<number>; readonly scales: ReadonlyArray<number> } => {
  const [rows, cols] = weight.shape as [number, number]
  const blocks = blocksPerRow(cols, weight.blockSize)
  const bits = schemeBits(weight.scheme)
  return { codes: [rows * blocks, (weight.blockSize * bits) / 8], scales: [rows * blocks] }
}

/** Initializer names of a block-quantised parameter's codes and scales. */
export const quantisedNames = (name: string) => ({ codes: `${name}:codes`, scales: `${name}:scales` })

/** Adds the codes and scales initializers of a block-quantised weight. */
export const addQuantisedInitializers = (name: string, weight: BlockQuantisedWeight, add: AddInitializer): void => {
  const [rows, cols] = weight.shape as [number, number]
  const blocks = blocksPerRow(cols, weight.blockSize)
  const names = quantisedNames(name)
  const stored = weight.stored
  const parts = quantisedPartBytes(weight)
  // A stored weight's codes are read only if they cannot be mapped (its holder may not keep them in memory).
  const codes = stored ? { length: parts.codes, read: () => weight.codes } : weight.codes
  const scales = stored ? { length: parts.scales, read: () => bytesOf(weight.scales) } : bytesOf(weight.scales)
  add(names.codes, "uint8", [rows, blocks, (weight.blockSize * schemeBits(weight.scheme)) / 8], codes, stored && { folder: stored.folder, file: stored.file, offset: stored.codesOffset })
  add(names.scales, "float32", [rows, blocks], scales, stored && { folder: stored.folder, file: stored.file, offset: stored.scalesOffset })
}

/** `accuracy_level` of MatMulNBits for a mode: 4 = int8 activations, 0 = float32 (the input type). */
export const accuracyLevel = (mode: QuantisedMatMul): number => (mode === "nbits" ? 0 : 4)

/** Emits `MatMulNBits(a, codes, scales)` → `output`. */
export const emitMatMulNBits = (ctx: LoweringContext, a: string, name: string, weight: BlockQuantisedWeight, output: string, mode: QuantisedMatMul): void => {
  const names = quantisedNames(name)
  ctx.nodes.push({
    opType: "MatMulNBits",
    domain: MICROSOFT_DOMAIN.domain,
    inputs: [a, names.codes, names.scales],
    outputs: [output],
    attributes: matMulNBitsAttributes(weight, accuracyLevel(mode))
  })
}

/** MatMulNBits' attributes for `weight` (the pre-packed store keys its entries by them: one list for every emitter). */
export const matMulNBitsAttributes = (weight: Pick<BlockQuantisedWeight, "scheme" | "shape" | "blockSize">, accuracy: number) => [
  { name: "K", int: weight.shape[1]! },
  { name: "N", int: weight.shape[0]! },
  { name: "bits", int: schemeBits(weight.scheme) },
  { name: "block_size", int: weight.blockSize },
  { name: "accuracy_level", int: accuracy }
]

/**
 * Emits the float32 value of a block-quantised weight as `output` [rows, cols]:
 * codes (int4: nibbles unpacked, low first) → [rows·blocks, blockSize] →
 * DequantizeLinear(axis 0, scale and zero point per block) → [rows, cols].
 */
export const emitDequantised = (ctx: LoweringContext, name: string, weight: Pick<BlockQuantisedWeight, "scheme" | "shape" | "blockSize">, output: string, after?: string, layout: "initializer" | "held" = "initializer", tieCodes = false): void => {
  const [rows, cols] = weight.shape as [number, number]
  const bits = schemeBits(weight.scheme)
  const blocks = blocksPerRow(cols, weight.blockSize)
  const names = quantisedNames(name)
  // Held (bound) weights are stored flat (`heldDims`), so no reshape of the inputs is needed.
  const held = layout === "held"
  let codes = names.codes
  // Constant codes (mapped from a file): the unpacking's operands are made run-time values, tied to the activation,
  // or onnxruntime would unpack every weight once, at session creation, into constants of its own. (int8 codes
  // go straight into DequantizeLinear, whose scales are tied below.)
  const tied = tieCodes && after !== undefined
  if (bits === 4) {
    const low = ctx.temp("low")
    const high = ctx.temp("high")
    ctx.emit("BitwiseAnd", [codes, tied ? tiedByte(ctx, 0x0f, after) : uint8Scalar(ctx, "nibble", 0x0f)], [low])
    ctx.emit("BitShift", [codes, tied ? tiedByte(ctx, 4, after) : uint8Scalar(ctx, "four", 4)], [high], [{ name: "direction", string: "RIGHT" }])
    const pairs = ctx.temp("pairs")
    ctx.emit("Concat", [unsqueezeLast(ctx, low), unsqueezeLast(ctx, high)], [pairs], [{ name: "axis", int: -1 }])
    codes = pairs
  }
  let flat = codes
  if (!held || bits === 4) {
    flat = ctx.temp("codes")
    ctx.emit("Reshape", [codes, ctx.int64s("shape", [rows * blocks, weight.blockSize])], [flat])
  }
  let scales = names.scales
  if (!held) {
    scales = ctx.temp("scales")
    ctx.emit("Reshape", [names.scales, ctx.int64s("shape", [rows * blocks])], [scales])
  }
  if (after !== undefined) {
    const tied = ctx.temp("scalesAfter")
    ctx.emit("Add", [scales, zeroAfter(ctx, after)], [tied])
    scales = tied
  }
  // One set per block count and width in the program (the first reader's; later readers of the same shape share it).
  const zero = ctx.once(`zeroPoints:${bits}:${rows * blocks}`, () => zeroPoints(ctx, scales, bits))
  const values = ctx.temp("dequantised")
  ctx.emit("DequantizeLinear", [flat, scales, zero], [values], [{ name: "axis", int: 0 }])
  if (blocks * weight.blockSize === cols) {
    ctx.emit("Reshape", [values, ctx.int64s("shape", [rows, cols])], [output])
    return
  }
  const padded = ctx.temp("padded")
  ctx.emit("Reshape", [values, ctx.int64s("shape", [rows, blocks * weight.blockSize])], [padded])
  ctx.emit("Slice", [padded, ctx.int64s("starts", [0]), ctx.int64s("ends", [cols]), ctx.int64s("axes", [1])], [output])
}

/** Where a weight's codes and scales lie in a pre-packed blob the compiler reads (`runtime/prepacked-layout.ts`): file and byte offsets. */
export interface TiledSource {
  readonly file: string
  readonly codes: number
  readonly scales: number
}

/** The initializers of an int4 weight read from its pre-packed blob: whole row tiles, then the rows after them (when any). */
export const tiledParts = (name: string, weight: Pick<BlockQuantisedWeight, "shape" | "blockSize">) => {
  const [rows, cols] = weight.shape as [number, number]
  // Units of UNIT (128) values: UNIT / 2 bytes of codes and UNIT / blockSize scales (4, 2 or 1); rows in tiles of TILE.
  const units = cols / UNIT
  const unitBytes = UNIT / 2
  const unitScales = UNIT / weight.blockSize
  const whole = rows - (rows % TILE)
  const rest = rows - whole
  return {
    whole,
    rest,
    parts: [
      ...(whole > 0 ? [{ name: `${name}:codes`, dataType: "uint8" as const, dims: [whole / TILE, units, TILE, unitBytes], at: (s: TiledSource) => s.codes, bytes: whole * units * unitBytes }] : []),
      ...(rest > 0 ? [{ name: `${name}:codesRest`, dataType: "uint8" as const, dims: [rest * units, unitBytes], at: (s: TiledSource) => s.codes + whole * units * unitBytes, bytes: rest * units * unitBytes }] : []),
      ...(whole > 0 ? [{ name: `${name}:scales`, dataType: "float32" as const, dims: [whole / TILE, units, TILE, unitScales], at: (s: TiledSource) => s.scales, bytes: whole * units * unitScales * 4 }] : []),
      ...(rest > 0 ? [{ name: `${name}:scalesRest`, dataType: "float32" as const, dims: [rest * units * unitScales], at: (s: TiledSource) => s.scales + whole * units * unitScales * 4, bytes: rest * units * unitScales * 4 }] : [])
    ]
  }
}

/**
 * The float32 value of an int4 weight read from its pre-packed blob (`tiledParts`) as `output` [rows, cols]:
 * each unit's 64 bytes unpacked to its 128 values in order (low nibbles, then high), whole tiles put back in row
 * order by a Transpose (of the unpacked codes and of the scales, after the ties: on constants onnxruntime would fold
 * it into a copy of its own), the rows after them appended, then DequantizeLinear as for the natural layout — the
 * same codes and scales, so the same values bit for bit.
 */
export const emitTiledDequantised = (ctx: LoweringContext, name: string, weight: Pick<BlockQuantisedWeight, "scheme" | "shape" | "blockSize">, output: string, after: string): void => {
  const [rows, cols] = weight.shape as [number, number]
  const { whole, rest } = tiledParts(name, weight)
  const blocks = cols / weight.blockSize
  const unpack = (codes: string): string => {
    const low = ctx.temp("low")
    const high = ctx.temp("high")
    ctx.emit("BitwiseAnd", [codes, tiedByte(ctx, 0x0f, after)], [low])
    ctx.emit("BitShift", [codes, tiedByte(ctx, 4, after)], [high], [{ name: "direction", string: "RIGHT" }])
    const values = ctx.temp("unit")
    ctx.emit("Concat", [low, high], [values], [{ name: "axis", int: -1 }])
    return values
  }
  const tiedScales = (scales: string): string => {
    const tied = ctx.temp("scalesAfter")
    ctx.emit("Add", [scales, zeroAfter(ctx, after)], [tied])
    return tied
  }
  const codeParts: Array<string> = []
  const scaleParts: Array<string> = []
  const rowOrder = (value: string, shape: ReadonlyArray<number>): string => {
    const transposed = ctx.temp("rowOrder")
    ctx.emit("Transpose", [value], [transposed], [{ name: "perm", ints: [0, 2, 1, 3] }])
    const flat = ctx.temp("flat")
    ctx.emit("Reshape", [transposed, ctx.int64s("shape", shape)], [flat])
    return flat
  }
  if (whole > 0) {
    codeParts.push(rowOrder(unpack(`${name}:codes`), [whole * blocks, weight.blockSize]))
    scaleParts.push(rowOrder(tiedScales(`${name}:scales`), [whole * blocks]))
  }
  if (rest > 0) {
    const flat = ctx.temp("codes")
    ctx.emit("Reshape", [unpack(`${name}:codesRest`), ctx.int64s("shape", [rest * blocks, weight.blockSize])], [flat])
    codeParts.push(flat)
    scaleParts.push(tiedScales(`${name}:scalesRest`))
  }
  const joined = (parts: ReadonlyArray<string>, hint: string): string => {
    if (parts.length === 1) return parts[0]!
    const out = ctx.temp(hint)
    ctx.emit("Concat", [...parts], [out], [{ name: "axis", int: 0 }])
    return out
  }
  const codes = joined(codeParts, "codes")
  const scales = joined(scaleParts, "scales")
  const zero = ctx.once(`zeroPoints:4:${rows * blocks}`, () => zeroPoints(ctx, scales, 4))
  const values = ctx.temp("dequantised")
  ctx.emit("DequantizeLinear", [codes, scales, zero], [values], [{ name: "axis", int: 0 }])
  ctx.emit("Reshape", [values, ctx.int64s("shape", [rows, cols])], [output])
}

/**
 * DequantizeLinear's zero points (2^(bits-1), one per block) computed from the
 * scales, `scales · 0 + 2^(bits-1)` cast to uint8, instead of a constant: a
 * constant of rows · blocks bytes was an initializer of its own for every
 * reader in every session (about 30 MB per set of readers of a 1.1B model,
 * resident as long as the session), while this is made at its first reader
 * and freed after the last one of the same shape (every reader's zero points
 * are equal; each program holds one set per weight shape, not one per reader,
 * since onnxruntime keeps tens of KiB per node of a session resident). When
 * the scales are initializers (baked weights) onnxruntime folds it into one.
 */
const zeroPoints = (ctx: LoweringContext, scales: string, bits: number): string => {
  const zeroed = ctx.temp("zeroed")
  ctx.emit("Mul", [scales, ctx.constant("zero", "float32", [1], [0])], [zeroed])
  const offset = ctx.temp("offset")
  ctx.emit("Add", [zeroed, ctx.constant("midpoint", "float32", [1], [1 << (bits - 1)])], [offset])
  const zero = ctx.temp("zero")
  ctx.emit("Cast", [offset], [zero], [{ name: "to", int: 2 }])
  return zero
}

/**
 * The float32 value of a bound float16 weight `input` as `output`: a Cast,
 * tied to `after` (see `ties.ts`) through the shape of a Reshape, which
 * costs nothing.
 */
export const emitWidened = (ctx: LoweringContext, input: string, shape: ReadonlyArray<number>, output: string, after?: string): void => {
  let source = input
  if (after !== undefined) {
    source = ctx.temp("tied")
    ctx.emit("Reshape", [input, tiedShape(ctx, shape, after)], [source])
  }
  ctx.emit("Cast", [source], [output], [{ name: "to", int: 1 }])
}

const uint8Scalar = (ctx: LoweringContext, hint: string, value: number): string => ctx.rawConstant(hint, "uint8", [], new Uint8Array([value]))

/** `value` as a uint8 [1] that depends on `after` (see `zeroAfter`): a run-time operand, not a constant. */
const tiedByte = (ctx: LoweringContext, value: number, after: string): string =>
  ctx.once(`tiedByte:${value}:${after}`, () => {
    const zero = ctx.temp("zeroByte")
    ctx.emit("Cast", [zeroAfter(ctx, after)], [zero], [{ name: "to", int: 2 }])
    const byte = ctx.temp("tiedByte")
    ctx.emit("BitwiseOr", [uint8Scalar(ctx, "byte", value), zero], [byte])
    return byte
  })

const unsqueezeLast = (ctx: LoweringContext, x: string): string => {
  const out = ctx.temp("unsqueezed")
  ctx.emit("Unsqueeze", [x, ctx.int64s("axes", [-1])], [out])
  return out
}
