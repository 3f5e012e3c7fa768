/**
 * A loaded model on a {@link BackendService}: config, frozen weights, and a
 * cache of executables per (shape bucket, head, adapter layout). Everything
 * above it — generation, scoring, training — only asks for an executable and
 * runs it.
 *
 * Frozen weights are `shared` by default: uploaded to the backend once and
 * bound to every program (generation buckets, scoring, policy and training
 * programs), so memory does not grow with the number of programs. `baked`
 * copies them into each program as constants (onnxruntime then folds and
 * pre-packs a private copy per session; see bench-results/weights.json).
 * Weights mapped from a file (a float32 cache, `HostTensor.stored`) on a
 * backend that maps files are read from the file by every program instead
 * of uploaded, and where the backend also serves pre-packed forms from files
 * (`BackendService.servesPrepacked`) the default is `decode`: the decode
 * steps bake the mapped weights, pre-packed once on disk.
 *
 * Frozen weights in reduced precision (`quantised`) follow
 * {@link QuantisedBinding}: by default (`auto`) decode steps (one new token
 * per row) bake them (onnxruntime's MatMulNBits only runs fast on constant
 * codes it pre-packs, a copy per session; the decode steps of one family are
 * one backend session group, so one copy for all their shapes), and every
 * other program (prefill, scoring, training, reference) binds one stored copy
 * that each run dequantises, which costs little next to the matmuls of many
 * tokens.
 */
import { eliminateDeadCode, Graph, hostByteLength, neg, quantisedBytes, type DeviceQuantisedWeight, type BackendError, type BackendFeed, type BackendService, type CompileOptions, type DeviceTensor, type Executable, type HostTensor, type Program, type QuantisedWeight, type BackendRunOptions } from "@refine-af/tensor"
import { Effect, Option } from "effect"
import type { LlamaConfig } from "@refine-af/models"
import { availableMemory, configRopeFrequencies, type RopeFrequencies } from "@refine-af/models"
import { buildStepGraph, rotaryInputs, stepNames, type CacheUpdate, type ProgramLora, type StepHead, type StepShape } from "@refine-af/models"

/** A model ready to run on a backend. */
export interface LlamaRuntime {
  readonly config: LlamaConfig
  readonly backend: BackendService
  readonly frequencies: RopeFrequencies
  readonly padTokenId: number
  /** The frozen float32 weights (HF names) every program uses (all of them unless stored in `quantised`). */
  readonly weights: Readonly<Record<string, HostTensor>>
  /** Frozen weights kept in reduced precision (`weights: float16 | int8 | int4`), by HF name; baked as such. */
  readonly quantised: Readonly<Record<string, QuantisedWeight>>
  /** The frozen (non-trainable) parameters of `program` to bake: float32 constants and quantised weights. */
  readonly frozen: (program: Program) => { readonly constants: Record<string, HostTensor>; readonly quantised: Record<string, QuantisedWeight> }
  /**
   * Compiles any program over this model: float32 frozen weights bound
   * (`shared`, one copy for all programs) or baked, per {@link WeightMode};
   * quantised ones per {@link QuantisedBinding} (`decodeStep`: a step of one
   * new token per row).
   */
  readonly compile: (program: Program, keepOnDevice: ReadonlyArray<string>, decodeStep?: boolean) => Effect.Effect<Executable, BackendError>
  /** The compiled step program for a bucket (compiled once, then cached); `cacheUpdate` (default `slide`) only matters when `shape.cache > 0`. */
  readonly executable: (shape: StepShape, head: StepHead, lora?: ProgramLora, cacheUpdate?: CacheUpdate) => Effect.Effect<Executable, BackendError>
  /**
   * The shape a decode step (one new token per row) of at least `want.batch`
   * rows over at least `want.cache` slots runs at: `want` itself, except when
   * quantised weights under `auto` could no longer bake another copy (free
   * memory below {@link bakeHeadroom}) and no baked step of that shape exists
   * — a new program would then share the stored copy and decode several
   * times slower. Then it is the smallest decode step already compiled with
   * its own baked copy (same head, adapter layout and cache update) that holds
   * the rows and slots (`sameCache`: exactly `want.cache` slots, for a loop
   * whose caches are allocated); padding rows and empty slots cost far less.
   * `want` when there is none.
   */
  readonly decodeShape: (want: { readonly batch: number; readonly cache: number }, head: StepHead, lora: ProgramLora | undefined, cacheUpdate: CacheUpdate, sameCache: boolean) => { readonly batch: number; readonly cache: number }
  /**
   * Where generation keeps its KV cache: `host` (typed arrays the step
   * programs read in place, new keys/values written into free slots; CPU and
   * CUDA, whose outputs come back to host memory anyway) or `device` (the
   * sliding `present_*` outputs stay in device memory; WebGPU).
   */
  readonly kvCache: Effect.Effect<KvCacheMode, BackendError>
  readonly run: (executable: Executable, feeds: Readonly<Record<string, BackendFeed>>, options?: BackendRunOptions) => Effect.Effect<Readonly<Record<string, DeviceTensor>>, BackendError>
}

/**
 * How frozen float32 weights reach the programs: one shared copy bound to
 * all (`shared`), a copy baked into each (`baked`), or `decode`: shared,
 * plus one baked copy for the decode steps (one new token per row) of
 * the widths {@link RuntimeOptions.bakedDecodeRows} picks, which share it as one backend
 * session group. onnxruntime pre-packs only baked
 * weights, and its one-row products on weights it did not pre-pack are
 * ~1.2–1.6× slower (30M / 120M, batch 1); `decode` buys that speed for
 * onnxruntime's copy of the weights, its pre-packed form and the folded
 * transposes (~3× the weight bytes more on the 120M workload of
 * tools/bench-weights), while the memory free at the
 * first decode compile leaves room ({@link bakeHeadroom}), else shared with a
 * warning. With every float32 weight mapped from a file and the pre-packed
 * forms served from files by the backend, `decode` costs file pages, not
 * memory: it asks for no headroom and is the default (float32 models), and
 * each decode step is a session of its own (all mapping the same files; no
 * group to rebuild when a shape is added). If the backend then cannot serve
 * them (its store failed: disk full, a read-only folder, another process
 * making it), a decode step asks for the headroom after all, and reads the
 * mapped file unbaked without it.
 */
export type WeightMode = "shared" | "baked" | "decode"

/**
 * How reduced-precision frozen weights reach the programs (with `weightMode`
 * `shared`): `shared` binds one stored copy to every program, dequantised by
 * each run (least memory; decode steps run at float32 matmul speed or
 * below); `baked` bakes them into each program (fast quantised matmuls, a
 * copy per program); `auto` (default) bakes them into decode steps (one new
 * token per row: memory-bound matmuls that read every weight for a few rows;
 * a family's decode steps share one copy: the backend's store of pre-packed
 * forms, mapped by a session per step, where it serves them, else one backend
 * session group)
 * while the memory free at a family's first decode compile leaves room for
 * that copy ({@link bakeHeadroom}; on a backend that does not group, at every
 * decode compile), and binds them everywhere else. "Binds" reads them from
 * the quantised-weight cache file where they have one and the backend maps
 * files (`BackendService.mapsStoredWeights`; `CompileOptions.readStored`):
 * then the process holds no copy of its own, the file's pages serve every
 * program; otherwise one uploaded copy. Under `auto` generation's programs,
 * and every other once a decode step has baked, read int4 weights from the
 * decode steps' pre-packed form where the backend knows its layout
 * (`CompileOptions.readPrepacked`): one resident copy for both.
 */
export type QuantisedBinding = "auto" | "shared" | "baked"

/**
 * Free memory `auto` asks for before baking quantised weights of
 * `quantisedBytes` into one more decode program: onnxruntime holds the codes
 * and its pre-packed copy while it creates the session, plus a margin.
 */
export const bakeHeadroom = (quantisedBytes: number): number => 2 * quantisedBytes + 512 * 2 ** 20

/** Runtimes made in this process (names their session groups apart: a group shares constants by name). */
let runtimeCount = 0

/** Where generation keeps the KV cache (see {@link LlamaRuntime.kvCache}). */
export type KvCacheMode = "host" | "device"

/** Options of {@link makeLlamaRuntime}. */
export interface RuntimeOptions {
  /** Longest sequence the runtime will see (sets dynamic rope scaling). */
  readonly contextLength: number
  /** Token used for padding rows and slots. */
  readonly padTokenId: number
  /** Default `shared`; `decode` for a float32 model whose weights are all mapped from a file, on a backend that serves pre-packed forms ({@link WeightMode}). */
  readonly weightMode?: WeightMode
  /** Frozen weights stored in reduced precision (default none). */
  readonly quantised?: Readonly<Record<string, QuantisedWeight>>
  /** Default `auto`; see {@link QuantisedBinding}. */
  readonly quantisedBinding?: QuantisedBinding
  /** Bytes this process can still allocate (default: `availableMemory` of `@refine-af/models`, cgroup limit included). */
  readonly availableMemory?: () => number
  /** Told once, when `auto` binds a decode step because baking another copy would not fit. */
  readonly onQuantisedFallback?: (message: string) => Effect.Effect<void>
  /** Default: `device` when the backend's outputs live in device memory (a probe program's output says), else `host`. */
  readonly kvCache?: KvCacheMode
  /**
   * `weight_mode: decode` bakes the float32 weights into decode steps of at most this many rows; wider decode
   * steps read the shared copy (or the mapped file) like every other program. Infinity bakes every decode step.
   * Default: the decode steps whose products the backend's `prefersBound` says to bake, at the model's smallest
   * inner size (hidden, attention or MLP width); steps of up to 3 rows when it does not say. backend-onnx: with
   * AVX2 kernels a bound weight streams past 4 or more rows (weight-left products) as fast as or faster than a
   * pre-packed product (tools/bench-llama: baked 0.79–0.93× shared at batch 8), so steps of 1-3 rows bake (2-3
   * from K = 2048, where one row is 1.045× slower bound: not worth a second copy); with
   * AVX-512 kernels the pre-packed product wins at every width below K = 2048 (30M decode steps 1.35× faster at
   * batch 8: every step bakes), and from K = 2048 (1.1B, 7B) no step bakes (batch 1 and 8 equal either way,
   * batch 2 and 4 1.22–1.25× faster baked, a job's generation 3%: not worth a second copy).
   */
  readonly bakedDecodeRows?: number
  /**
   * Decode steps whose baked weights the backend serves pre-packed from files join their family's session group
   * as other baked decode steps do (default false: each is a session of its own, since every such session maps
   * the same files and joining a group rebuilds all its members). For comparison (tools/bench-weights `grouped`).
   */
  readonly groupServedDecodes?: boolean
  /**
   * How decode steps that bake int8 / int4 weights mapped from the quantised-weight cache read the float32 LM
   * head: `prepacked` (default: onnxruntime pre-packs it like the projections, the form served from the backend's
   * store: fastest) or `mapped` (the cache file's bytes as they are, `CompileOptions.readAsIs`: one resident form
   * of the head, and no pre-packing of it while each decode session is made, which at 7B int4 is the whole
   * transient of a session's creation; decoding a few per cent slower). Ignored where the head is not mapped.
   */
  readonly decodeHead?: "prepacked" | "mapped"
}

/** Runs a one-op program once: `device` when its output (asked to stay on the device) is in device memory. */
const probeOutputLocation = (backend: BackendService): Effect.Effect<KvCacheMode, BackendError> =>
  Effect.gen(function* () {
    const g = new Graph()
    g.output("y", neg(g.input("x", "float32", [1])))
    const exe = yield* backend.compile(g.build(), { keepOnDevice: ["y"] })
    const out = yield* backend.run(exe, { x: { dtype: "float32", shape: [1], data: new Float32Array(1) } })
    yield* Effect.ignore(backend.release(out.y!))
    return out.y!.location === "device" ? "device" : "host"
  })

const loraKey = (lora: ProgramLora | undefined) => (lora ? `lora:${lora.rank}:${lora.alpha}:${lora.scale ?? ""}:${lora.targets.join(",")}:${lora.dropout ? "dropout" : ""}` : "base")

/** Memoises an upload per weight name: the first call uploads, later ones reuse the result. */
const uploadedOnce = <A>(make: (name: string) => Effect.Effect<A, BackendError>) => {
  const known = new Map<string, A>()
  return (name: string): Effect.Effect<A, BackendError> =>
    Effect.suspend(() => {
      const held = known.get(name)
      return held !== undefined ? Effect.succeed(held) : Effect.tap(make(name), (t) => Effect.sync(() => known.set(name, t)))
    })
}

/**
 * Wraps a backend and float32 weights (HF names) into a runtime.
 *
 * @example
 * ```ts
 * import { makeLlamaRuntime } from "@refine-af/model-llama"
 * // const runtime = makeLlamaRuntime(backend, config, weights, { contextLength: 512, padTokenId: 0 })
 * ```
 */
export const makeLlamaRuntime = (
  backend: BackendService,
  config: LlamaConfig,
  weights: Readonly<Record<string, HostTensor>>,
  options: RuntimeOptions
): LlamaRuntime => {
  const compiled = new Map<string, Effect.Effect<Executable, BackendError>>()
  const quantised = options.quantised ?? {}
  const frozen = (program: Program) => {
    const constants: Record<string, HostTensor> = {}
    const reduced: Record<string, QuantisedWeight> = {}
    for (const parameter of program.parameters) {
      if (parameter.trainable) continue
      const value = weights[parameter.name]
      const stored = quantised[parameter.name]
      if (value) constants[parameter.name] = value
      else if (stored) reduced[parameter.name] = stored
    }
    return { constants, quantised: reduced }
  }
  const frequencies = configRopeFrequencies(config, options.contextLength)
  // Every float32 weight mapped from a file (a float32 cache) by a backend that also serves the pre-packed forms from
  // files: baking them into the decode steps then costs file pages, not memory, so `decode` is the default of a
  // float32 model (a quantised one's decode steps map its float32 weights with the baked quantised ones already).
  const float32Names = Object.keys(weights)
  const mapsAllFloat32 = backend.mapsStoredWeights === true && float32Names.length > 0 && float32Names.every((name) => weights[name]!.stored !== undefined)
  const servedFloat32 = mapsAllFloat32 && backend.servesPrepacked === true
  const mode = options.weightMode ?? (servedFloat32 && Object.keys(quantised).length === 0 ? "decode" : "shared")
  // Uploaded on first use, once; every program binds the same backend tensors.
  const upload = uploadedOnce<DeviceTensor>((name) => backend.upload(weights[name]!))
  const uploadQuantised = uploadedOnce<DeviceQuantisedWeight>((name) => backend.uploadQuantised(quantised[name]!))
  const binding = options.quantisedBinding ?? "auto"
  const quantisedTotal = Object.values(quantised).reduce((n, w) => n + quantisedBytes(w), 0)
  const float32Total = Object.values(weights).reduce((n, w) => n + hostByteLength(w), 0)
  const freeMemory = options.availableMemory ?? (() => availableMemory().bytes)
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2)
  // Whether a baked copy of `bytes` still fits in free memory ({@link bakeHeadroom}); when not, says `fallback(needed, free)` once.
  const roomFor = (bytes: number, fallback: (needed: string, free: string) => string) => {
    let warned = false
    return Effect.gen(function* () {
      const free = freeMemory()
      const needed = bakeHeadroom(bytes)
      if (free >= needed) return true
      if (!warned) {
        warned = true
        yield* options.onQuantisedFallback?.(fallback(gib(needed), gib(free))) ?? Effect.void
      }
      return false
    })
  }
  // Whether `decode` bakes a family's first decode step: while its copy (and onnxruntime's pre-packed one) fits in free memory.
  const roomToBakeFloat32 = roomFor(float32Total, (needed, free) => `weight_mode: decode bakes the float32 weights into the decode steps, which needs about ${needed} GiB free and ${free} GiB are; decoding reads the shared copy instead (slower one-row products). weight_mode: shared makes that choice explicit`)
  const headroom = bakeHeadroom(quantisedTotal)
  const hasRoom = () => freeMemory() >= headroom
  // Whether `auto` still bakes a decode step: only while another pre-packed copy fits in free memory.
  const roomToBake = roomFor(quantisedTotal, (needed, free) => `a decode program with its own pre-packed copy of the quantised weights needs about ${needed} GiB free and ${free} GiB are; this and later decode programs share the stored copy instead (decoding several times slower; shapes an existing baked step holds still run on it, with padding). Fewer decode programs (a smaller max_batch, fewer distinct prompt + new-token lengths) or more memory keep decoding fast; quantised_binding: shared makes the slower choice explicit`)
  // Baked decode steps of one family share a backend session group: one baked (pre-packed) copy for all their shapes.
  const runtimeId = ++runtimeCount
  // Families whose baked decode steps the backend did group (every further shape joins at no memory cost).
  const groupedFamilies = new Set<string>()
  // Under `auto`, int codes mapped from the quantised-weight cache by a backend that serves pre-packed forms from files:
  // a decode step then bakes them as a session of its own. A group would save no memory (every session maps the same
  // files), and each shape joining one rebuilds all its members: onnxruntime pre-packs every branch again at creation
  // (to hash it against the served form), so the n-th shape cost n times the first (1.1B int4: +1.6 s per member).
  const servedQuantised = options.groupServedDecodes !== true && binding === "auto" && quantisedTotal > 0 && backend.mapsStoredWeights === true && backend.servesPrepacked === true && Object.values(quantised).every((w) => w.scheme !== "float16" && w.stored !== undefined)
  // Families whose decode steps bake the quantised weights served from files (every further shape at no memory cost).
  const servedFamilies = new Set<string>()
  // A build whose pre-packed forms must come from files; none when the backend cannot serve them all (then the caller builds otherwise).
  const servedBuild = (built: Effect.Effect<Executable, BackendError>) =>
    built.pipe(
      Effect.map(Option.some),
      Effect.catchTag("BackendCompileError", (error) => (error.prepackUnserved === undefined ? Effect.fail(error) : Effect.succeedNone))
    )
  // `decodeStep`: a step program of one new token per row (set by `executable`); `onBaked`: told when its quantised weights are baked; `family`: its session group.
  const innerSize = Math.min(config.hiddenSize, config.numHeads * config.headDim, config.intermediateSize)
  const bakesRows = (rows: number) => (options.bakedDecodeRows !== undefined ? rows <= options.bakedDecodeRows : backend.prefersBound === undefined ? rows <= 3 : !backend.prefersBound(rows, innerSize))
  // `rows`: a decode step's batch.
  // `forGeneration`: a prefill or decode step of generation (whose decode steps bake the quantised weights under `auto`).
  const compile = (program: Program, keepOnDevice: ReadonlyArray<string>, decodeStep = false, onBaked?: () => void, family?: string, rows = 1, forGeneration = false) =>
    Effect.gen(function* () {
      const baked = frozen(program)
      // The step programs' cos / sin inputs come from `makeStepFeeds` (Hugging Face tables, halves equal).
      const tableNames = new Set(rotaryInputs(config))
      const rotaryTables = program.inputs.map((i) => i.name).filter((name) => tableNames.has(name))
      if (mode === "baked") return yield* backend.compile(program, { ...baked, keepOnDevice, rotaryTables })
      const names = Object.keys(baked.constants)
      // `bakeFloat32`: this decode step bakes the float32 weights into its family's group; `servedOnly`: on the
      // understanding that their pre-packed forms come from files (CompileOptions.servedPrepackOnly).
      const build = (bakeFloat32: boolean, servedOnly: boolean) =>
        Effect.gen(function* () {
          // A decode step joining its family's session group adds no baked copy: no headroom needed.
          // One served from files (`servedOnly`) adds none either: its pre-packed forms are the store's file pages.
          const bindQuantised = binding === "shared" || (binding === "auto" && (!decodeStep || (quantisedTotal > 0 && !servedOnly && !(family !== undefined && groupedFamilies.has(family)) && !(yield* roomToBake))))
          // Bound weights with a stored copy (the quantised-weight cache) are read from it by a backend that maps files:
          // one copy in the file for every program, none uploaded. With no quantised weight, a decode step that does not
          // bake the float32 ones reads them so too.
          const bindsAll = bindQuantised || (quantisedTotal === 0 && !bakeFloat32)
          const readStored = bindsAll && backend.mapsStoredWeights === true && Object.values(baked.quantised).every((w) => w.scheme !== "float16" && w.stored !== undefined)
          const reduced = bindQuantised && !readStored
            ? Object.fromEntries(yield* Effect.forEach(Object.keys(baked.quantised), (name) => Effect.map(uploadQuantised(name), (t) => [name, t] as const)))
            : baked.quantised
          const bakesQuantised = !bindQuantised && Object.keys(baked.quantised).length > 0
          // The float32 weights the cache holds too (embeddings, head, norms) go with the quantised ones: read from the
          // file as they are where the quantised ones are (`readStored`), mapped into the decode group that bakes them.
          const mapsFloat32 = (readStored || bakesQuantised) && backend.mapsStoredWeights === true && names.length > 0 && names.every((name) => baked.constants[name]!.stored !== undefined)
          const bakesFloat32 = bakeFloat32 || mapsFloat32
          // Mapped beside baked quantised weights, the float32 ones (the LM head is the one product among them) are read
          // as the file's bytes when asked (`decodeHead: mapped`): no pre-packed copy of the head in the store or in
          // memory, none made while the session is created (a group of steps that disagree pre-packs it once).
          const asIs = bakesQuantised && mapsFloat32 && !readStored && !bakeFloat32 && options.decodeHead === "mapped" ? names : []
          const bound = bakesFloat32 ? {} : Object.fromEntries(yield* Effect.forEach(names, (name) => Effect.map(upload(name), (t) => [name, t] as const)))
          // A decode step whose pre-packed forms the store serves is a session of its own: every such session maps the
          // same files, so a group would save no memory, and joining one rebuilds all its members (onnxruntime pre-packs
          // each branch again at creation to hash it: at 1.1B float32 ~5 s per member, against ~5.5 s flat alone).
          const grouped = family !== undefined && (bakesQuantised || bakeFloat32) && !servedOnly
          const compileOptions: CompileOptions = { quantised: reduced, weights: bound, keepOnDevice, rotaryTables, ...(bakesFloat32 ? { constants: baked.constants } : {}), ...(grouped ? { group: `llama-runtime-${runtimeId}-decode-${family}` } : {}), ...(readStored ? { readStored, ...(readsPrepacked(forGeneration) ? { readPrepacked: true } : {}) } : {}), ...(asIs.length > 0 ? { readAsIs: asIs } : {}), ...(servedOnly ? { servedPrepackOnly: true } : {}) }
          const exe = yield* backend.compile(program, compileOptions)
          if (grouped && exe.grouped === true) groupedFamilies.add(family!)
          if (bakesQuantised && servedOnly) servedFamilies.add(family!)
          if (bakesQuantised) onBaked?.()
          return exe
        })
      // `decode` bakes the float32 weights into the decode steps `bakesRows` picks: at no memory cost once its
      // family's group holds them; mapped weights whose pre-packed forms the backend serves from files ask for no
      // headroom either (each such step compiles alone, mapping the store), as long as the backend does serve them (its
      // store can fail: disk full, read-only, another process making it), after which it is the same headroom check as
      // weights in memory, and the family's later steps join its group.
      const bakes = mode === "decode" && family !== undefined && bakesRows(rows) && names.length > 0
      // `auto` bakes the stored quantised weights into a decode step of its own whose pre-packed forms the backend
      // serves from files where it can (no headroom asked: file pages); where it cannot, into the family's group.
      if (!bakes && decodeStep && family !== undefined && servedQuantised && !groupedFamilies.has(family)) {
        const served = yield* servedBuild(build(false, true))
        if (Option.isSome(served)) return served.value
      }
      if (!bakes) return yield* build(false, false)
      if (groupedFamilies.has(family)) return yield* build(true, false)
      if (servedFloat32 && options.groupServedDecodes !== true) {
        const served = yield* servedBuild(build(true, true))
        if (Option.isSome(served)) return served.value
      }
      return yield* build(yield* roomToBakeFloat32, false)
    })
  // Decode steps compiled with their own baked quantised copy, by family (head, adapter layout, cache update).
  const bakedDecodes = new Map<string, Array<{ batch: number; cache: number }>>()
  // Under `auto`, programs reading stored weights read the decode steps' pre-packed int4 form (CompileOptions.readPrepacked:
  // one resident copy for both; the backend makes that form first where missing) when they are generation's own
  // programs or a decode step has baked: a job that never generates (SFT alone) has the backend make no such form.
  const readsPrepacked = (forGeneration: boolean) => binding === "auto" && (forGeneration || bakedDecodes.size > 0)
  const familyKey = (head: StepHead, lora: ProgramLora | undefined, update: CacheUpdate) => `${head}|${loraKey(lora)}|${update}`
  const decodeShape: LlamaRuntime["decodeShape"] = (want, head, lora, cacheUpdate, sameCache) => {
    if (mode === "baked" || binding !== "auto" || quantisedTotal === 0) return want
    const family = bakedDecodes.get(familyKey(head, lora, cacheUpdate)) ?? []
    const key = familyKey(head, lora, cacheUpdate)
    if (family.some((s) => s.batch === want.batch && s.cache === want.cache) || groupedFamilies.has(key) || servedFamilies.has(key) || hasRoom()) return want
    const holding = family.filter((s) => s.batch >= want.batch && (sameCache ? s.cache === want.cache : s.cache >= want.cache))
    const cost = (s: { batch: number; cache: number }) => s.batch * s.cache
    return holding.reduce<{ batch: number; cache: number } | undefined>((best, s) => (best === undefined || cost(s) < cost(best) || (cost(s) === cost(best) && s.cache < best.cache) ? s : best), undefined) ?? want
  }
  const executable = (shape: StepShape, head: StepHead, lora?: ProgramLora, cacheUpdate: CacheUpdate = "slide") => {
    const update = shape.cache > 0 ? cacheUpdate : "slide"
    const key = `${shape.batch}x${shape.length}+${shape.cache}${update === "append" ? "a" : ""}${shape.window === undefined || shape.window === shape.length ? "" : `w${shape.window}`}${shape.prompts ? `p${shape.prompts.count}x${shape.prompts.length}` : ""}|${head}|${loraKey(lora)}`
    const cached = compiled.get(key)
    if (cached) return cached
    const program = eliminateDeadCode(buildStepGraph(config, shape, head, lora, update).build())
    // Sliding caches stay on the device between steps; appended keys/values are written into host caches.
    const keepOnDevice = shape.cache > 0 && update === "slide"
      ? Array.from({ length: config.numLayers }, (_, layer) => [stepNames.presentKey(layer), stepNames.presentValue(layer)]).flat()
      : []
    // Memoised: the first run compiles, later runs (any fiber) reuse the executable.
    const onBaked = () => {
      const family = familyKey(head, lora, update)
      bakedDecodes.set(family, [...(bakedDecodes.get(family) ?? []), { batch: shape.batch, cache: shape.cache }])
    }
    const memo = Effect.runSync(Effect.cached(compile(program, keepOnDevice, shape.length === 1, shape.length === 1 ? onBaked : undefined, shape.length === 1 ? familyKey(head, lora, update) : undefined, shape.batch, head === "last-logits")))
    compiled.set(key, memo)
    return memo
  }
  const kvCache = options.kvCache !== undefined ? Effect.succeed(options.kvCache) : Effect.runSync(Effect.cached(probeOutputLocation(backend)))
  return { config, backend, frequencies, padTokenId: options.padTokenId, weights, quantised, frozen, executable, decodeShape, kvCache, run: backend.run, compile }
}
