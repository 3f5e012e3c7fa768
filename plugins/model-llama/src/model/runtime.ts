/**
 * A loaded model on a {@link BackendService}: config, weights baked into the
 * compiled programs as constants, and a cache of executables per (shape
 * bucket, head, adapter layout). Everything above it — generation, scoring,
 * training — only asks for an executable and runs it.
 */
import { eliminateDeadCode, type BackendError, type BackendFeed, type BackendService, type DeviceTensor, type Executable, type HostTensor, type Program, type QuantisedWeight } from "@refine-af/tensor"
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
  /** The frozen float32 weights (HF names) baked into every program (all of them unless stored in `quantised`). */
  readonly weights: Readonly<Record<string, HostTensor>>
  /** Frozen weights kept in reduced precision (`weights: float16 | int8 | int4`), by HF name; baked as such. */
  readonly quantised: Readonly<Record<string, QuantisedWeight>>
  /** The frozen (non-trainable) parameters of `program` to bake: float32 constants and quantised weights. */
  readonly frozen: (program: Program) => { readonly constants: Record<string, HostTensor>; readonly quantised: Record<string, QuantisedWeight> }
  /** The compiled step program for a bucket (compiled once, then cached). */
  readonly executable: (shape: StepShape, head: StepHead, lora?: ProgramLora) => Effect.Effect<Executable, BackendError>
  readonly run: (executable: Executable, feeds: Readonly<Record<string, BackendFeed>>) => Effect.Effect<Readonly<Record<string, DeviceTensor>>, BackendError>
}

/** Options of {@link makeLlamaRuntime}. */
export interface RuntimeOptions {
  /** Longest sequence the runtime will see (sets dynamic rope scaling). */
  readonly contextLength: number
  /** Token used for padding rows and slots. */
  readonly padTokenId: number
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
  const executable = (shape: StepShape, head: StepHead, lora?: ProgramLora) => {
    const key = `${shape.batch}x${shape.length}+${shape.cache}|${head}|${loraKey(lora)}`
    const cached = compiled.get(key)
    if (cached) return cached
    const program = eliminateDeadCode(buildStepGraph(config, shape, head, lora).build())
    const baked = frozen(program)
    const keepOnDevice = shape.cache > 0
      ? Array.from({ length: config.numLayers }, (_, layer) => [stepNames.presentKey(layer), stepNames.presentValue(layer)]).flat()
      : []
    // Memoised: the first run compiles, later runs (any fiber) reuse the executable.
    const memo = Effect.runSync(Effect.cached(backend.compile(program, { ...baked, keepOnDevice })))
    compiled.set(key, memo)
    return memo
  }
  return { config, backend, frequencies, padTokenId: options.padTokenId, weights, quantised, frozen, executable, run: backend.run }
}
