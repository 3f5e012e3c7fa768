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
 */
import { eliminateDeadCode, type BackendError, type BackendFeed, type BackendService, type CompileOptions, type DeviceTensor, type Executable, type HostTensor, type Program, type QuantisedWeight } from "@refine-af/tensor"
import { Effect } from "effect"
import type { LlamaConfig } from "@refine-af/models"
import { ropeFrequencies, type RopeFrequencies } from "@refine-af/models"
import { buildStepGraph, stepNames, type ProgramLora, type StepHead, type StepShape } from "@refine-af/models"

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
   * Compiles any program over this model: quantised frozen weights are baked
   * (a copy per program), float32 ones bound (`shared`, one copy for all
   * programs) or baked, per {@link WeightMode}.
   */
  readonly compile: (program: Program, keepOnDevice: ReadonlyArray<string>) => Effect.Effect<Executable, BackendError>
  /** The compiled step program for a bucket (compiled once, then cached). */
  readonly executable: (shape: StepShape, head: StepHead, lora?: ProgramLora) => Effect.Effect<Executable, BackendError>
  readonly run: (executable: Executable, feeds: Readonly<Record<string, BackendFeed>>) => Effect.Effect<Readonly<Record<string, DeviceTensor>>, BackendError>
}

/** How frozen weights reach the programs: one shared copy bound to all, or a copy baked into each. */
export type WeightMode = "shared" | "baked"

/** Options of {@link makeLlamaRuntime}. */
export interface RuntimeOptions {
  /** Longest sequence the runtime will see (sets dynamic rope scaling). */
  readonly contextLength: number
  /** Token used for padding rows and slots. */
  readonly padTokenId: number
  /** Default `shared`. */
  readonly weightMode?: WeightMode
  /** Frozen weights stored in reduced precision (default none). */
  readonly quantised?: Readonly<Record<string, QuantisedWeight>>
}

const loraKey = (lora: ProgramLora | undefined) => (lora ? `lora:${lora.rank}:${lora.alpha}:${lora.scale ?? ""}:${lora.targets.join(",")}:${lora.dropout ? "dropout" : ""}` : "base")

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
  const frequencies = ropeFrequencies(config.ropeScaling, config.ropeTheta, config.headDim, config.maxPositionEmbeddings, options.contextLength)
  const mode = options.weightMode ?? "shared"
  // Uploaded on first use, once; every program binds the same backend tensors.
  const uploaded = new Map<string, DeviceTensor>()
  const upload = (name: string) =>
    Effect.suspend(() => {
      const known = uploaded.get(name)
      return known !== undefined ? Effect.succeed(known) : Effect.tap(backend.upload(weights[name]!), (t) => Effect.sync(() => uploaded.set(name, t)))
    })
  const compile = (program: Program, keepOnDevice: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const baked = frozen(program)
      if (mode === "baked") return yield* backend.compile(program, { ...baked, keepOnDevice })
      const names = Object.keys(baked.constants)
      const bound = Object.fromEntries(yield* Effect.forEach(names, (name) => Effect.map(upload(name), (t) => [name, t] as const)))
      const compileOptions: CompileOptions = { quantised: baked.quantised, weights: bound, keepOnDevice }
      return yield* backend.compile(program, compileOptions)
    })
  const executable = (shape: StepShape, head: StepHead, lora?: ProgramLora) => {
    const key = `${shape.batch}x${shape.length}+${shape.cache}|${head}|${loraKey(lora)}`
    const cached = compiled.get(key)
    if (cached) return cached
    const program = eliminateDeadCode(buildStepGraph(config, shape, head, lora).build())
    const keepOnDevice = shape.cache > 0
      ? Array.from({ length: config.numLayers }, (_, layer) => [stepNames.presentKey(layer), stepNames.presentValue(layer)]).flat()
      : []
    // Memoised: the first run compiles, later runs (any fiber) reuse the executable.
    const memo = Effect.runSync(Effect.cached(compile(program, keepOnDevice)))
    compiled.set(key, memo)
    return memo
  }
  return { config, backend, frequencies, padTokenId: options.padTokenId, weights, quantised, frozen, executable, run: backend.run, compile }
}
