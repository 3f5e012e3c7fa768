/**
 * Full-parameter training of the built-in model on the compute core: one
 * program per step does the forward pass, the masked cross-entropy, reverse-
 * mode gradients of every weight, global-norm clipping and AdamW; weights
 * and optimizer moments stay backend tensors between steps.
 */
import { buildHeads, configRopeFrequencies, type LlamaConfig } from "@refine-af/models"
import { adamw, stepInputNames, trainStep, type BackendError, type BackendFeed, type BackendService, type HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import { packedFeeds } from "./feeds.ts"
import type { PackedRow } from "./pack.ts"

/** Optimisation settings. */
export interface TrainSettings {
  readonly rows: number
  readonly length: number
  readonly peakLr: number
  readonly warmupSteps: number
  readonly totalSteps: number
  /** Final learning rate as a fraction of the peak (cosine decay). */
  readonly finalLrFraction: number
  readonly weightDecay: number
  readonly clipGradNorm: number
}

/** Linear warm-up, then cosine decay to `finalLrFraction · peakLr` at `totalSteps`. */
export const learningRate = (s: TrainSettings, step: number): number => {
  if (step <= s.warmupSteps) return (s.peakLr * step) / s.warmupSteps
  const progress = Math.min(1, (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps))
  return s.peakLr * (s.finalLrFraction + (1 - s.finalLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)))
}

/** A running training session. */
export interface FullTrainer {
  /** One step on a packed batch; returns the loss before the update and the gradient norm. */
  readonly step: (rows: ReadonlyArray<PackedRow>) => Effect.Effect<{ loss: number; gradNorm: number; lr: number }, BackendError>
  /** The current weights (downloaded), by HF name. */
  readonly weights: () => Effect.Effect<Record<string, HostTensor>, BackendError>
}

/** Compiles the step program and holds the training state. */
export const makeFullTrainer = (backend: BackendService, config: LlamaConfig, initial: Readonly<Record<string, HostTensor>>, settings: TrainSettings, padId: number): Effect.Effect<FullTrainer, BackendError> =>
  Effect.gen(function* () {
    const { outputs } = buildHeads(config, { batch: settings.rows, length: settings.length }, { loss: true }, { trainableBase: true })
    const loss = outputs.loss!
    // Norm weights are not decayed (as in common LLM training recipes).
    const optimizer = adamw({ weightDecay: settings.weightDecay, beta1: 0.9, beta2: 0.95, decay: (name) => !name.endsWith("norm.weight") })
    const step = trainStep(loss, { optimizer, clipGradNorm: settings.clipGradNorm })
    const exe = yield* backend.compile(step.program, { constants: {}, keepOnDevice: step.carry.map((c) => c.output) })
    const frequencies = configRopeFrequencies(config, settings.length)
    let state: Record<string, BackendFeed> = {}
    for (const binding of step.carry) {
      state[binding.input] = binding.init === "parameter"
        ? initial[binding.input]!
        : { dtype: "float32", shape: binding.shape, data: new Float32Array(binding.shape.reduce((a, b) => a * b, 1)) }
    }
    let stepNumber = 0
    const scalar = (value: number): HostTensor => ({ dtype: "float32", shape: [], data: Float32Array.of(value) })
    const read = (feed: BackendFeed) => ("handle" in feed ? backend.download(feed) : Effect.succeed(feed))
    const names = step.carry.filter((c) => c.init === "parameter").map((c) => c.input)
    return {
      step: (rows) =>
        Effect.gen(function* () {
          stepNumber += 1
          const lr = learningRate(settings, stepNumber)
          const out = yield* backend.run(exe, {
            ...packedFeeds(config, frequencies, rows, settings.length, padId),
            ...state,
            [stepInputNames.lr]: scalar(lr),
            [stepInputNames.step]: scalar(stepNumber)
          })
          const next: Record<string, BackendFeed> = {}
          for (const binding of step.carry) next[binding.input] = out[binding.output]!
          for (const old of Object.values(state)) if ("handle" in old) yield* Effect.ignore(backend.release(old))
          state = next
          const lossValue = ((yield* backend.download(out.loss!)).data as Float32Array)[0]!
          const gradNorm = ((yield* backend.download(out.grad_norm!)).data as Float32Array)[0]!
          return { loss: lossValue, gradNorm, lr }
        }),
      weights: () =>
        Effect.gen(function* () {
          const result: Record<string, HostTensor> = {}
          for (const name of names) result[name] = yield* read(state[name]!)
          return result
        })
    }
  })
