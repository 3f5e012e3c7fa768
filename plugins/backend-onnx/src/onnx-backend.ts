/**
 * The `Backend` service on onnxruntime: compile = IR → ONNX → session (cached
 * by content hash + shapes), run = feed check + session run, tensors held by
 * the engine (in this thread or a worker thread).
 *
 * Promise APIs are wrapped once here; every failure becomes one of the tagged
 * backend errors.
 */
import type { BackendFeed, BackendService, BlockQuantisedWeight, CompileOptions, DeviceQuantisedWeight, DeviceTensor, DType, Executable, HostTensor, Program, BackendRunOptions, QuantisedWeight, TensorSpec } from "@refine-af/tensor"
import { BackendCompileError, BackendFeedError, BackendRunError, DeviceTensorError, isDeviceQuantised, isDeviceTensor, UnsupportedOpError } from "@refine-af/tensor"
import { Effect, Semaphore } from "effect"
import type { Scope } from "effect"
import { compileProgram, onnxInputName, onnxOutputName, type CompiledModel, type QuantisedPart } from "./compile/compiler.ts"
import { GROUP_BRANCH_INPUT, groupSignature, mergeGroup } from "./compile/group.ts"
import { compileKey } from "./compile/hash.ts"
import { accuracyLevel, heldDims, type QuantisedMatMul, type TiledSource } from "./compile/quantised-weights.ts"
import type { Engine, Loaded, StoredTensor, TensorRef } from "./runtime/engine.ts"
import type { WeightLeftFrom } from "./compile/fusions.ts"
import { prefersBound, cpuFeatures, weightLeftFrom } from "./runtime/cpu-features.ts"
import { makeOrtHost } from "./runtime/ort-host.ts"
import { tiledReads } from "./runtime/prepacked-reads.ts"
import { withPrepackedStore, type StoreResult } from "./runtime/prepacked-store.ts"
import { encodeModel, type OnnxModel } from "./onnx/model.ts"
import type { ModelBundle, Provider } from "./runtime/providers.ts"
import { makeWorkerEngine } from "./runtime/worker-engine.ts"

const BACKEND = "onnx"

/** Settings of an onnx backend instance. */
export interface OnnxBackendSettings {
  readonly provider: Provider
  /** Intra-op threads; 0 = onnxruntime default. */
  readonly threads: number
  /** Run sessions in a worker thread (keeps the main event loop responsive). */
  readonly worker: boolean
  /** Store baked float32 weights as float16. */
  readonly float16Weights: boolean
  /** How int8 / int4 quantised weights of `x·Wᵀ` run: `auto` = `nbits-int8` (default: MatMulNBits, int8 activations), `nbits` (float32 activations) or `dequantize` (DequantizeLinear + MatMul). */
  readonly quantisedMatMul?: QuantisedMatMul
  /** Emit known subgraphs (RMSNorm) as one onnxruntime kernel (default true); false lowers op by op (benchmarks compare). */
  readonly fuse?: boolean
  /** Compute `x·Wᵀ` with a bound (shared) weight and 4-32 rows of x (2-32 at K ≥ 1024 with AVX-512 kernels, `weightLeftFrom` in runtime/cpu-features.ts) as `(W·xᵀ)ᵀ`, so the weight is streamed instead of re-packed every run (default: on for the CPU provider, whose MatMul re-packs a non-constant right operand per run; off for GPU providers, where it is unmeasured); false keeps the plain form (benchmarks compare). */
  readonly weightLeft?: boolean
  /** Overrides from how many rows products use the weight-left form, by inner size (`WeightLeftFrom` of compile/fusions.ts: `[k, rows]` pairs; default on the CPU provider: from the CPU's features, `weightLeftFrom` in runtime/cpu-features.ts). */
  readonly weightLeftFrom?: WeightLeftFrom
  /**
   * Overrides `BackendService.prefersBound` with "from this many rows, at every inner size" (Infinity: never).
   * Default on the CPU provider: from the CPU's features (`prefersBound` in runtime/cpu-features.ts: from 4
   * rows with AVX2 kernels, and at one row from K = 2048; with AVX-512 ones at every row count from K = 2048,
   * never below); unset on GPU
   * providers. Benchmarks and tests set it to compare or to fix the choice.
   */
  readonly prefersBoundFromRows?: number
  /**
   * Read a large bound weight with a short inner dimension (a small model's vocabulary head) through a
   * [K, N] copy at 1-3 rows (batch-1 decode), made once per bound weight and shared by every program that
   * binds it: its bytes again, for MLAS's faster one-row kernel (default: on for the CPU provider; off
   * elsewhere, unmeasured). See `planTransposedCopies` in compile/fusions.ts.
   */
  readonly transposedCopies?: boolean
  /** Baked weights at least this many bytes go to external data (default 1 MiB). */
  readonly externalThreshold?: number
  /** Turn off onnxruntime's per-session pre-packing of constant weights (session.disable_prepacking). */
  readonly disablePrepacking?: boolean
  /**
   * Keep the pre-packed form of int8 / int4 weights mapped from a file (the
   * quantised-weight cache) in a store file next to it, which every session
   * then maps instead of pre-packing a copy in its own memory (default: on
   * for the CPU provider; see runtime/prepacked-store.ts). Costs disk: the
   * codes again plus ~1.5× them in pre-packed form, made once per CPU and
   * onnxruntime version.
   */
  readonly prepackedStore?: boolean
  /**
   * With the store: programs that read stored int4 weights (`CompileOptions.readStored` with `readPrepacked`)
   * read them from the store's pre-packed blobs where their layout is known (runtime/prepacked-reads.ts),
   * one resident copy for them and the decode steps (default true; false reads the stored codes and
   * scales, the second copy: benchmarks compare).
   */
  readonly prepackedReads?: boolean
  /**
   * onnxruntime's per-session CPU memory arena (default false). With it each
   * session keeps the peak activation memory of its runs, so memory grows with
   * the number of programs (measured: 2.2× vs 1.6× the weight bytes for
   * load + generate + score + train step + reference on a 120M model).
   */
  readonly cpuMemArena?: boolean
  /**
   * Let each session's thread-pool threads keep spinning after its run
   * returns, onnxruntime's default (default false: they stop when the run
   * returns, so a program that just ran does not steal cores from the next
   * one; measured after a prefill on 2 cores, the next decode steps ran 2-4×
   * slower while the prefill session's worker span).
   */
  readonly idleSpin?: boolean
  /**
   * Profile every session with onnxruntime's profiler: each session writes
   * `<prefix>_<date>.json` (chrome-trace format: every kernel's time, input
   * and output shapes, per run) when it closes, i.e. when this backend's scope
   * does. Default: the `REFINE_AF_ORT_PROFILE` environment variable, so any
   * command can be profiled without code changes; unset, no profiling.
   */
  readonly profilePrefix?: string
}

/** Called when a provider could not start and the session fell back to the CPU. */
export type FallbackListener = (requested: Provider, reason: string) => void

interface Handle {
  readonly owner: object
  readonly ref: TensorRef
  released: boolean
  /** The weight's [K, N] copy, once a program asked for it (released with the weight). */
  transposed?: Promise<TensorRef>
}

/** The stored parts of a weight from `uploadQuantised`. */
interface QuantisedHandle {
  readonly owner: object
  readonly parts: Readonly<Partial<Record<QuantisedPart, Handle>>>
  released: boolean
}

interface CompiledEntry {
  readonly executable: Executable
  readonly sessionKey: string
  readonly onnxOutputs: ReadonlyArray<string>
  /**
   * Parameters bound to backend tensors (`CompileOptions.weights`, and the
   * parts of bound quantised weights), by ONNX input name; `holder` is the
   * caller's object, held so the garbage collector cannot free it first;
   * `ref`, where set, is what is fed (a weight's [K, N] copy) instead of the handle's own tensor.
   */
  readonly bound: ReadonlyArray<{ readonly name: string; readonly onnxName: string; readonly handle: Handle; readonly holder: object; readonly ref?: TensorRef }>
  /** Inputs compiled as rotary tables (`CompileOptions.rotaryTables`, fused): host feeds are checked for equal halves. */
  readonly rotaryTables: ReadonlySet<string>
  /** Set when the program is a branch of a session group (`CompileOptions.group`): the group's current session and the branch selector fed with every run. */
  readonly group?: { readonly state: GroupState; readonly selector: HostTensor }
}

/** The programs of one session group and the session that holds them all (rebuilt when one joins; see compile/group.ts). */
interface GroupState {
  members: ReadonlyArray<{ readonly sessionKey: string; readonly model: CompiledModel }>
  sessionKey: string | undefined
  loaded: Loaded | undefined
  version: number
  readonly lock: Semaphore.Semaphore
}

/** The first [row] of a rotary table [..., D] whose two halves differ, or undefined (the promise of `rotaryTables` holds). */
const unequalHalves = (data: ArrayLike<number>, width: number): number | undefined => {
  const half = width / 2
  for (let row = 0; row * width < data.length; row++) {
    const base = row * width
    for (let i = 0; i < half; i++) {
      const a = data[base + i]!
      const b = data[base + half + i]!
      if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) return row
    }
  }
  return undefined
}

/** `data` [rows, cols] row-major → [cols, rows], in tiles that stay in cache. */
const transpose2d = (data: Float32Array, rows: number, cols: number): Float32Array => {
  const out = new Float32Array(rows * cols)
  const tile = 64
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile)
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(cols, c0 + tile)
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = data[r * cols + c]!
    }
  }
  return out
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

const sameSpec = (spec: TensorSpec, value: { dtype: string; shape: ReadonlyArray<number> }): boolean =>
  spec.dtype === value.dtype && spec.shape.length === value.shape.length && spec.shape.every((d, i) => d === value.shape[i])

/** Identity of a set of bound tensors (engine ids are unique per backend instance). */
const boundKey = (bound: ReadonlyArray<{ name: string; handle: Handle }>): string =>
  bound.map((b) => `${b.name}=${b.handle.ref.id}`).sort().join(";")

/** Builds the service; the engine (sessions, tensors, worker) is released when the scope closes. */
export const makeOnnxBackend = (
  settings: OnnxBackendSettings,
  onFallback: FallbackListener = () => {},
  onWarning: (message: string) => void = () => {}
): Effect.Effect<BackendService, never, Scope.Scope> =>
  Effect.gen(function* () {
    const profilePrefix = settings.profilePrefix ?? process.env["REFINE_AF_ORT_PROFILE"]
    const sessionSettings = { provider: settings.provider, threads: settings.threads, disablePrepacking: settings.disablePrepacking ?? false, cpuMemArena: settings.cpuMemArena ?? false, idleSpin: settings.idleSpin ?? false, ...(profilePrefix ? { profilePrefix } : {}) }
    const engine: Engine = yield* Effect.acquireRelease(
      Effect.sync(() => (settings.worker ? makeWorkerEngine(sessionSettings) : makeOrtHost(sessionSettings))),
      (e) => Effect.promise(() => e.close())
    )
    const owner = {}
    const compiled = new Map<string, CompiledEntry>()
    const compilerSettings = { externalThreshold: settings.externalThreshold ?? 1 << 20, float16Weights: settings.float16Weights, quantisedMatMul: settings.quantisedMatMul ?? "auto", fuse: settings.fuse ?? true, weightLeft: settings.weightLeft ?? settings.provider === "cpu", ...(settings.weightLeftFrom !== undefined ? { weightLeftFrom: settings.weightLeftFrom } : settings.provider === "cpu" ? { weightLeftFrom: weightLeftFrom(cpuFeatures().flags) } : {}), transposedCopies: settings.transposedCopies ?? settings.provider === "cpu", decomposeLogSoftmax: settings.provider === "webgpu" }
    const fromRows = settings.prefersBoundFromRows
    const preferBound = fromRows !== undefined ? (rows: number) => rows >= fromRows : settings.provider === "cpu" ? prefersBound(compilerSettings.weightLeft, cpuFeatures().flags) : undefined

    // A device tensor the caller drops without `release` is freed when it is garbage-collected,
    // so forgetting `release` costs memory for a while, not forever.
    let closed = false
    const releaseHandle = (handle: Handle): Promise<void> => {
      handle.released = true
      const copy = handle.transposed
      handle.transposed = undefined
      return Promise.all([engine.release(handle.ref).catch(() => undefined), copy?.then((ref) => engine.release(ref)).catch(() => undefined)]).then(() => undefined)
    }
    const collector = new FinalizationRegistry<Handle>((handle) => {
      if (!handle.released && !closed) void releaseHandle(handle)
    })
    // The [K, N] copy of a bound weight [N, K], made on first use (see `transposedCopies`).
    const transposedOf = (handle: Handle): Promise<TensorRef> => {
      handle.transposed ??= (async () => {
        const weight = await engine.download(handle.ref)
        const [n, k] = weight.shape as [number, number]
        return engine.upload({ dtype: "float32", shape: [k, n], data: transpose2d(weight.data as Float32Array, n, k) })
      })()
      const made = handle.transposed
      // A failed copy is not kept: the next compile tries again.
      made.catch(() => {
        if (handle.transposed === made) handle.transposed = undefined
      })
      return made
    }
    yield* Effect.addFinalizer(() => Effect.sync(() => (closed = true)))
    const wrap = (ref: TensorRef): DeviceTensor => {
      const handle: Handle = { owner, ref, released: false }
      const tensor: DeviceTensor = { dtype: ref.dtype as DType, shape: ref.shape, location: ref.location === "gpu-buffer" || settings.worker ? "device" : "host", handle }
      collector.register(tensor, handle, handle)
      return tensor
    }
    // A handle of this backend instance, not yet released; `what` and `foreignFix` word the errors.
    const ownHandle = <H extends { readonly owner: object; readonly released: boolean }>(handle: H | undefined, what: string, foreignFix: string): Effect.Effect<H, DeviceTensorError> => {
      if (handle === undefined || handle.owner !== owner) {
        return Effect.fail(new DeviceTensorError({ backend: BACKEND, message: `this ${what} belongs to another backend instance; ${foreignFix}` }))
      }
      if (handle.released) {
        return Effect.fail(new DeviceTensorError({ backend: BACKEND, message: `this ${what} was released; keep it until its last use` }))
      }
      return Effect.succeed(handle)
    }
    const unwrap = (tensor: DeviceTensor) => ownHandle(tensor.handle as Handle | undefined, "tensor", "download it and pass the host tensor instead")
    const unwrapQuantised = (weight: DeviceQuantisedWeight) => ownHandle(weight.handle as QuantisedHandle | undefined, "quantised weight", "upload it to this one with uploadQuantised")
    const quantisedCollector = new FinalizationRegistry<QuantisedHandle>((handle) => {
      if (!handle.released && !closed) {
        handle.released = true
        for (const part of Object.values(handle.parts)) engine.release(part.ref).catch(() => undefined)
      }
    })

    const compile = (program: Program, options: CompileOptions = {}) =>
      Effect.gen(function* () {
        const constants = options.constants ?? {}
        const given = options.quantised ?? {}
        const quantised: Record<string, QuantisedWeight> = {}
        const keep = options.keepOnDevice ?? []
        const bound: Array<{ name: string; handle: Handle; tensor: DeviceTensor }> = []
        for (const [name, tensor] of Object.entries(options.weights ?? {})) {
          if (name in constants || name in given) {
            return yield* new BackendCompileError({ backend: BACKEND, message: `parameter "${name}" is both a constant and a bound weight; pass it in one of them` })
          }
          bound.push({ name, handle: yield* unwrap(tensor), tensor })
        }
        // Bound quantised weights: each stored part is an ONNX input of its own, named by the compiler.
        const held = new Map<string, { weight: DeviceQuantisedWeight; handle: QuantisedHandle }>()
        for (const [name, weight] of Object.entries(given)) {
          if (isDeviceQuantised(weight)) held.set(name, { weight, handle: yield* unwrapQuantised(weight) })
          else quantised[name] = weight
        }
        const heldLayouts = [...held].map(([name, { weight }]) => `${name}:${weight.scheme}[${weight.shape.join(",")}]b${weight.blockSize ?? 0}`).sort()
        // The session depends on the program only; the executable also on which tensors are bound.
        // The fused rotary kernel is checked on the CPU provider only (CUDA / WebGPU: op by op until a GPU run verifies it).
        const rotaryTables = compilerSettings.fuse && settings.provider === "cpu" ? [...(options.rotaryTables ?? [])].sort() : []
        const memoryPattern = options.allocation === "planned"
        // Stored copies are mapped on the CPU provider only (file-mapped initializers on CUDA / WebGPU are unverified).
        const readStored = options.readStored === true && settings.provider === "cpu"
        const readAsIs = readStored || settings.provider !== "cpu" ? [] : [...new Set(options.readAsIs ?? [])].filter((name) => name in constants).sort()
        const servedOnly = options.servedPrepackOnly === true
        const sessionKey = compileKey(program, constants, keep, { ...compilerSettings, provider: settings.provider, bound: bound.map((b) => b.name).sort(), boundQuantised: heldLayouts, rotaryTables, memoryPattern, readStored, ...(readAsIs.length > 0 ? { readAsIs } : {}) }, quantised)
        const heldParts = [...held].flatMap(([name, { handle }]) => Object.entries(handle.parts).map(([part, h]) => ({ name: `${name}:${part}`, handle: h })))
        const key = bound.length + heldParts.length === 0 ? sessionKey : `${sessionKey}/${boundKey([...bound, ...heldParts])}`
        const cached = compiled.get(key)
        // (A group member whose group lost its session is compiled again: that reloads the group.)
        if (cached !== undefined && (cached.group === undefined || cached.group.state.sessionKey !== undefined)) return cached.executable
        // Stored int4 weights read from the decode steps' pre-packed blobs (runtime/prepacked-reads.ts).
        const tiled = readStored && options.readPrepacked === true && usesStore && settings.prepackedReads !== false && compilerSettings.quantisedMatMul !== "dequantize" && accuracyLevel(compilerSettings.quantisedMatMul) === 4
          ? yield* Effect.promise(() =>
              tiledReads(Object.fromEntries(Object.entries(quantised).filter((e): e is [string, BlockQuantisedWeight] => e[1].scheme !== "float16")), (models, folder) => withPrepackedStore(models, folder, settings.threads)).catch(
                (error: unknown) => ({ sources: new Map<string, TiledSource>(), problem: `the pre-packed weight store failed: ${message(error)}` })
              )
            ).pipe(Effect.tap(({ problem }) => Effect.sync(() => problem !== undefined && onWarning(problem))), Effect.map(({ sources }) => sources))
          : new Map<string, TiledSource>()
        const model = yield* Effect.try({
          try: () => compileProgram(program, constants, compilerSettings, given, rotaryTables, bound.map((b) => b.name), readStored, tiled, readAsIs),
          catch: (error) =>
            error instanceof UnsupportedOpError || error instanceof BackendCompileError
              ? error
              : new BackendCompileError({ backend: BACKEND, message: `compiling the program failed: ${message(error)}` })
        })
        const outputNames = new Set(model.outputs.map((o) => o.name))
        const unknownKeep = keep.filter((name) => !outputNames.has(name))
        if (unknownKeep.length > 0) {
          return yield* new BackendCompileError({ backend: BACKEND, message: `keepOnDevice names unknown outputs: ${unknownKeep.join(", ")}; use names from the program's outputs` })
        }
        const feedSpecs = new Map(model.feeds.map((f) => [f.name, f]))
        for (const b of bound) {
          const spec = feedSpecs.get(b.name)
          if (spec === undefined) {
            return yield* new BackendCompileError({ backend: BACKEND, message: `bound weight "${b.name}" names no parameter of the program (feeds: ${[...feedSpecs.keys()].join(", ") || "none"}); fix the name or drop it` })
          }
          if (!sameSpec(spec, b.tensor)) {
            return yield* new BackendCompileError({ backend: BACKEND, message: `bound weight "${b.name}" is ${b.tensor.dtype}[${b.tensor.shape.join(",")}] but the program declares ${spec.dtype}[${spec.shape.join(",")}]; bind a tensor of the declared dtype and shape` })
          }
        }
        // Groups are measured on the CPU provider only (If subgraphs on CUDA / WebGPU are unverified): elsewhere each program gets its own session.
        const joined = options.group !== undefined && engine.unload !== undefined && settings.provider === "cpu" ? yield* joinGroup(`${options.group}|${memoryPattern}|${groupSignature(model)}`, sessionKey, model, keep, memoryPattern, servedOnly) : undefined
        const loaded =
          joined !== undefined
            ? joined.loaded
            : yield* Effect.flatMap(withStore([model], servedOnly), ([onnx]) => {
                // Re-encoded only when the store changed the model.
                const bundle = onnx === model.onnx ? model.bundle : { ...model.bundle, bytes: encodeModel(onnx!) }
                return Effect.tryPromise({ try: () => engine.load(sessionKey, bundle, keep.map(onnxOutputName), memoryPattern), catch: rejected })
              })
        if (loaded.fallbackReason !== undefined) onFallback(settings.provider, loaded.fallbackReason)
        const copies: Array<{ name: string; onnxName: string; handle: Handle; ref: TensorRef; holder: object }> = []
        for (const input of model.transposedInputs) {
          const b = bound.find((candidate) => candidate.name === input.parameter)!
          const ref = yield* Effect.tryPromise({
            try: () => transposedOf(b.handle),
            catch: (error) => new BackendCompileError({ backend: BACKEND, message: `making the [K, N] copy of bound weight "${b.name}" failed: ${message(error)}; free memory or turn \`transposedCopies\` off` })
          })
          copies.push({ name: b.name, onnxName: input.onnxName, handle: b.handle, ref, holder: b.tensor })
        }
        const boundNames = new Set(bound.map((b) => b.name))
        const executable: Executable = { key, feeds: model.feeds.filter((f) => !boundNames.has(f.name)), outputs: model.outputs, device: loaded.provider, ...(joined !== undefined ? { grouped: true } : {}) }
        compiled.set(key, {
          executable,
          sessionKey,
          onnxOutputs: model.outputs.map((o) => onnxOutputName(o.name)),
          // Holding the tensor (not only its handle) keeps the garbage collector from freeing a bound weight.
          bound: [
            ...bound.map((b) => ({ name: b.name, onnxName: onnxInputName(b.name), handle: b.handle, holder: b.tensor })),
            ...copies,
            ...model.quantisedInputs.map((input) => {
              const { weight, handle } = held.get(input.parameter)!
              return { name: input.parameter, onnxName: input.onnxName, handle: handle.parts[input.part]!, holder: weight }
            })
          ],
          rotaryTables: new Set(rotaryTables),
          ...(joined !== undefined ? { group: { state: joined.state, selector: { dtype: "int64", shape: [], data: BigInt64Array.of(BigInt(joined.branch)) } satisfies HostTensor } } : {})
        })
        return executable
      })

    // Programs whose session pre-packs weights mapped from one folder read the pre-packed forms from the store there.
    const usesStore = settings.provider === "cpu" && (settings.prepackedStore ?? true) && settings.disablePrepacking !== true
    // Each program's ONNX model, with the store's entries where it serves them (the same object where it does not).
    // `servedOnly` (CompileOptions.servedPrepackOnly): fails, before any session is made, where some are not served.
    const withStore = (models: ReadonlyArray<CompiledModel>, servedOnly = false): Effect.Effect<ReadonlyArray<OnnxModel>, BackendCompileError> => {
      const onnx = models.map((m) => m.onnx)
      const folder = models[0]?.mapped?.folder
      if (!usesStore || folder === undefined || models.some((m) => m.mapped?.folder !== folder) || models.every((m) => m.bundle.mappedAsIs === true)) return Effect.succeed(onnx)
      return Effect.promise(() =>
        withPrepackedStore(onnx, folder, settings.threads).catch((error: unknown): StoreResult => {
          const problem = `the pre-packed weight store in ${folder} failed: ${message(error)}`
          return { models: onnx, problem, unservedBytes: Number.POSITIVE_INFINITY, unservedReason: problem }
        })
      ).pipe(
        Effect.tap(({ problem }) => Effect.sync(() => problem !== undefined && onWarning(problem))),
        Effect.flatMap(({ models: served, unservedBytes, unservedReason }) =>
          servedOnly && unservedBytes > 0
            ? Effect.fail(
                new BackendCompileError({
                  backend: BACKEND,
                  prepackUnserved: unservedBytes,
                  message: `the pre-packed forms of ${Number.isFinite(unservedBytes) ? `${(unservedBytes / 2 ** 20).toFixed(1)} MiB of ` : ""}stored weights in ${folder} are not served from files (${unservedReason ?? "unknown"}), and the program was compiled to pre-pack none in its own memory (servedPrepackOnly); compile it without that, or without baking them`
                })
              )
            : Effect.succeed(served)
        )
      )
    }
    const rejected = (error: unknown) =>
      new BackendCompileError({ backend: BACKEND, message: `onnxruntime rejected the compiled model: ${message(error)}. If it names a dtype, use float32; otherwise report the program` })
    const groups = new Map<string, GroupState>()
    // Adds a program to its group (unless already there) and rebuilds the group's session; its branch index.
    const joinGroup = (name: string, sessionKey: string, model: CompiledModel, keep: ReadonlyArray<string>, memoryPattern: boolean, servedOnly: boolean) =>
      Effect.gen(function* () {
        let state = groups.get(name)
        if (state === undefined) groups.set(name, (state = { members: [], sessionKey: undefined, loaded: undefined, version: 0, lock: Semaphore.makeUnsafe(1) }))
        const group = state
        return yield* group.lock.withPermits(1)(
          Effect.gen(function* () {
            const existing = group.members.findIndex((m) => m.sessionKey === sessionKey)
            if (existing >= 0 && group.loaded !== undefined) return { state: group, branch: existing, loaded: group.loaded }
            const merged = (members: GroupState["members"]) =>
              Effect.flatMap(withStore(members.map((m) => m.model), servedOnly), (served) =>
                Effect.try({ try: () => mergeGroup(members.map((m, i) => ({ ...m.model, onnx: served[i]! }))), catch: (error) => new BackendCompileError({ backend: BACKEND, message: `grouping the program with its family failed: ${message(error)}; compile it without \`group\`` }) })
              )
            const load = (members: GroupState["members"], bundle: ModelBundle) =>
              Effect.gen(function* () {
                const key = `${name}#${++group.version}`
                const loaded = yield* Effect.tryPromise({ try: () => engine.load(key, bundle, keep.map(onnxOutputName), memoryPattern), catch: rejected })
                group.members = members
                group.sessionKey = key
                group.loaded = loaded
                return loaded
              })
            // A member whose group lost its session (a rebuild that failed) reloads the members as they were.
            const before = group.members
            const members = existing >= 0 ? before : [...before, { sessionKey, model }]
            // Merged first: a program that cannot join is refused before the running session is touched.
            const bundle = yield* merged(members)
            // The old session goes first: the new one pre-packs the shared weights again, and two copies at once is what a group avoids.
            const previous = group.sessionKey
            if (previous !== undefined) {
              group.sessionKey = undefined
              group.loaded = undefined
              yield* Effect.promise(() => engine.unload!(previous))
            }
            const loaded = yield* load(members, bundle).pipe(
              // Its members keep running: rebuild the group without the program that failed.
              Effect.tapError(() => (existing < 0 && before.length > 0 ? Effect.ignore(Effect.flatMap(merged(before), (again) => load(before, again))) : Effect.void))
            )
            return { state: group, branch: existing >= 0 ? existing : members.length - 1, loaded }
          })
        )
      })

    const run = (executable: Executable, feeds: Readonly<Record<string, BackendFeed>>, options?: BackendRunOptions) =>
      Effect.gen(function* () {
        const entry = compiled.get(executable.key)
        if (entry === undefined) {
          return yield* new BackendRunError({ backend: BACKEND, message: "this executable was compiled by another backend instance; compile it on this one" })
        }
        const wanted = options?.outputs
        const outputs = wanted === undefined ? executable.outputs : executable.outputs.filter((o) => wanted.includes(o.name))
        const unknown = wanted?.find((name) => !executable.outputs.some((o) => o.name === name))
        if (unknown !== undefined) {
          return yield* new BackendRunError({ backend: BACKEND, message: `"${unknown}" is not an output of this program (outputs: ${executable.outputs.map((o) => o.name).join(", ")}); ask for those only` })
        }
        if (outputs.length === 0) {
          return yield* new BackendRunError({ backend: BACKEND, message: "run was asked for no outputs; name at least one in `outputs` (or leave it out for all)" })
        }
        const expected = new Set(executable.feeds.map((f) => f.name))
        for (const name of Object.keys(feeds)) {
          if (!expected.has(name)) {
            return yield* new BackendFeedError({ backend: BACKEND, name, message: `"${name}" is not a feed of this program (feeds: ${[...expected].join(", ")}); remove it or fix the name` })
          }
        }
        const engineFeeds: Record<string, HostTensor | TensorRef> = {}
        for (const spec of executable.feeds) {
          const feed = feeds[spec.name]
          if (feed === undefined) {
            return yield* new BackendFeedError({ backend: BACKEND, name: spec.name, message: `feed "${spec.name}" (${spec.dtype}[${spec.shape.join(",")}]) is missing; pass it to run` })
          }
          if (!sameSpec(spec, feed)) {
            return yield* new BackendFeedError({ backend: BACKEND, name: spec.name, message: `feed "${spec.name}" is ${feed.dtype}[${feed.shape.join(",")}] but the program wants ${spec.dtype}[${spec.shape.join(",")}]` })
          }
          if (entry.rotaryTables.has(spec.name) && !isDeviceTensor(feed)) {
            const row = unequalHalves(feed.data as ArrayLike<number>, spec.shape[spec.shape.length - 1]!)
            if (row !== undefined) {
              return yield* new BackendFeedError({ backend: BACKEND, name: spec.name, message: `rotary table "${spec.name}" has unequal halves at row ${row}, but it was compiled as one of \`rotaryTables\` (the fused kernel reads only the first half); feed Hugging Face tables (angles duplicated across the halves) or compile without declaring it` })
            }
          }
          engineFeeds[onnxInputName(spec.name)] = isDeviceTensor(feed) ? (yield* unwrap(feed)).ref : feed
        }
        for (const b of entry.bound) {
          if (b.handle.released) {
            return yield* new DeviceTensorError({ backend: BACKEND, message: `bound weight "${b.name}" was released while an executable still uses it; keep frozen weights until the model is closed` })
          }
          engineFeeds[b.onnxName] = b.ref ?? b.handle.ref
        }
        const names = wanted === undefined ? entry.onnxOutputs : outputs.map((o) => onnxOutputName(o.name))
        const runOn = (sessionKey: string) =>
          Effect.tryPromise({
            try: () => engine.run(sessionKey, engineFeeds, names),
            catch: (error) => new BackendRunError({ backend: BACKEND, message: `onnxruntime run failed: ${message(error)}` })
          })
        const group = entry.group
        // A group member runs under the group's lock: a member joining meanwhile swaps the session.
        const refs =
          group === undefined
            ? yield* runOn(entry.sessionKey)
            : yield* group.state.lock.withPermits(1)(
                Effect.suspend(() => {
                  const sessionKey = group.state.sessionKey
                  if (sessionKey === undefined) return Effect.fail(new BackendRunError({ backend: BACKEND, message: "this program's session group failed to rebuild when another program joined it (see that compile's error); compile this program again to reload the group" }))
                  engineFeeds[GROUP_BRANCH_INPUT] = group.selector
                  return runOn(sessionKey)
                })
              )
        const out: Record<string, DeviceTensor> = {}
        for (const spec of outputs) out[spec.name] = wrap(refs[onnxOutputName(spec.name)]!)
        return out
      })

    // In this thread a CPU tensor is read and freed at once (no Promise round trip: decode steps read a dozen
    // small outputs per token); otherwise through the engine's Promise.
    const readHandle = (handle: Handle): Effect.Effect<HostTensor, BackendRunError> =>
      Effect.gen(function* () {
        const failed = (error: unknown) => new BackendRunError({ backend: BACKEND, message: `download failed: ${message(error)}` })
        const now = engine.downloadNow === undefined ? undefined : yield* Effect.try({ try: () => engine.downloadNow!(handle.ref), catch: failed })
        return now ?? (yield* Effect.tryPromise({ try: () => engine.download(handle.ref), catch: failed }))
      })
    const dropHandle = (handle: Handle): Effect.Effect<void> =>
      Effect.suspend(() => {
        collector.unregister(handle)
        // A bound weight's [K, N] copy may still be in the making: that release waits for it.
        if (engine.releaseNow === undefined || handle.transposed !== undefined) return Effect.promise(() => releaseHandle(handle))
        handle.released = true
        engine.releaseNow(handle.ref)
        return Effect.void
      })

    const service: BackendService = {
      name: BACKEND,
      mapsStoredWeights: settings.provider === "cpu",
      servesPrepacked: usesStore,
      ...(preferBound === undefined ? {} : { prefersBound: preferBound }),
      compile,
      run,
      upload: (tensor) =>
        Effect.tryPromise({
          try: () => engine.upload(tensor),
          catch: (error) => new BackendRunError({ backend: BACKEND, message: `upload failed: ${message(error)}` })
        }).pipe(Effect.map(wrap)),
      uploadQuantised: (weight) =>
        Effect.tryPromise({
          try: async (): Promise<DeviceQuantisedWeight> => {
            const parts: Partial<Record<QuantisedPart, Handle>> = {}
            const store = async (part: QuantisedPart, tensor: HostTensor | StoredTensor) => {
              parts[part] = { owner, ref: await engine.upload(tensor), released: false }
            }
            try {
              if (weight.scheme === "float16") {
                await store("f16", { dtype: "float16", shape: weight.shape, data: weight.data })
              } else {
                // Stored flat (`heldDims`): what the programs that bind it read without reshaping.
                const dims = heldDims(weight)
                await store("codes", { dtype: "uint8", shape: dims.codes, data: weight.codes })
                await store("scales", { dtype: "float32", shape: dims.scales, data: weight.scales })
              }
            } catch (error) {
              // A part stored before the failure would otherwise stay in the engine with nothing to free it.
              for (const part of Object.values(parts)) await engine.release(part.ref).catch(() => undefined)
              throw error
            }
            const handle: QuantisedHandle = { owner, parts, released: false }
            const held: DeviceQuantisedWeight = { scheme: weight.scheme, shape: weight.shape, ...(weight.scheme === "float16" ? {} : { blockSize: weight.blockSize }), handle }
            quantisedCollector.register(held, handle, handle)
            return held
          },
          catch: (error) => new BackendRunError({ backend: BACKEND, message: `upload of a ${weight.scheme} weight failed: ${message(error)}` })
        }),
      releaseQuantised: (weight) =>
        Effect.gen(function* () {
          const handle = yield* unwrapQuantised(weight)
          handle.released = true
          quantisedCollector.unregister(handle)
          for (const part of Object.values(handle.parts)) {
            part.released = true
            yield* Effect.promise(() => engine.release(part.ref).catch(() => undefined))
          }
        }),
      download: (tensor) => Effect.flatMap(unwrap(tensor), readHandle),
      downloadAndRelease: (tensors) =>
        Effect.gen(function* () {
          const handles: Array<Handle> = []
          for (const tensor of tensors) handles.push(yield* unwrap(tensor))
          const hosts: Array<HostTensor> = []
          for (const handle of handles) {
            hosts.push(yield* readHandle(handle))
            yield* dropHandle(handle)
          }
          return hosts
        }),
      release: (tensor) => Effect.flatMap(unwrap(tensor), dropHandle)
    }
    return service
  })
