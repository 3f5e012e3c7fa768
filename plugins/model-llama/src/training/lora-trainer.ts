/**
 * LoRA supervised fine-tuning on the compute core. The training step is one
 * program — forward, masked cross-entropy, reverse-mode gradients of the LoRA
 * matrices only (the base weights are the runtime's frozen weights), AdamW update — and
 * the adapter weights and optimizer moments stay backend tensors between steps.
 */
import {
  adamw,
  eliminateDeadCode,
  gradients,
  stepInputNames,
  trainStep,
  type BackendError,
  type BackendFeed,
  type DeviceTensor,
  type Executable,
  type HostTensor,
  type Program
} from "@refine-af/tensor"
import { Effect } from "effect"
import { buildLossGraph, loraDropoutInput } from "@refine-af/models"
import { seededUniform } from "../sampling/prng.ts"
import type { LlamaRuntime } from "../model/runtime.ts"
import type { LoraAdapter } from "../peft/adapter.ts"
import { adapterFeeds, programLora } from "../peft/program-adapter.ts"
import { makeSftFeeds, type SftSequence } from "./sft-feeds.ts"

/** Options of {@link makeLoraTrainer}. */
export interface LoraTrainerOptions {
  /** Rows per step (the batch bucket). */
  readonly batch: number
  /** Padded tokens per row. */
  readonly length: number
  readonly learningRate: number
  readonly weightDecay?: number
  readonly beta1?: number
  readonly beta2?: number
  /** Seed of the LoRA dropout masks (used when the adapter's `dropout` > 0). */
  readonly seed?: number
  /** Recompute each decoder layer in the backward pass (gradient checkpointing; default false). */
  readonly gradientCheckpointing?: boolean
}

/** A running LoRA fine-tuning session. */
export interface LoraTrainer {
  /** One AdamW step on `sequences` (≤ batch rows); returns the loss before the update. */
  readonly step: (sequences: ReadonlyArray<SftSequence>) => Effect.Effect<number, BackendError>
  /** Loss and gradients w.r.t. every LoRA matrix at the current weights (no update), by parameter name. */
  readonly gradients: (sequences: ReadonlyArray<SftSequence>) => Effect.Effect<{ loss: number; gradients: Record<string, Float32Array> }, BackendError>
  /** The adapter with the current weights (downloaded). */
  readonly adapter: () => Effect.Effect<LoraAdapter, BackendError>
}


/**
 * Host-made LoRA dropout masks for one step: for each adapted module an
 * inverted-dropout keep mask [batch, length, in] (0 or 1/(1 − p)).
 */
const dropoutMasks = (adapter: LoraAdapter, batch: number, length: number, uniform: () => number): Record<string, HostTensor> => {
  const p = adapter.config.dropout
  const masks: Record<string, HostTensor> = {}
  for (const pair of adapter.pairs.values()) {
    const data = new Float32Array(batch * length * pair.inFeatures)
    for (let i = 0; i < data.length; i++) data[i] = uniform() < p ? 0 : 1 / (1 - p)
    masks[loraDropoutInput(pair.module)] = { dtype: "float32", shape: [batch, length, pair.inFeatures], data }
  }
  return masks
}

/**
 * Prepares training of `adapter` on top of the runtime's frozen weights.
 * Training steps apply the adapter's LoRA dropout; `gradients` evaluates
 * without dropout (as PEFT does in eval mode).
 */
export const makeLoraTrainer = (runtime: LlamaRuntime, adapter: LoraAdapter, options: LoraTrainerOptions): Effect.Effect<LoraTrainer, BackendError> =>
  Effect.gen(function* () {
    const lora = programLora(adapter)
    const shape = { batch: options.batch, length: options.length }
    const useDropout = adapter.config.dropout > 0
    const uniform = seededUniform(options.seed ?? 0)
    const checkpointLayers = { checkpointLayers: options.gradientCheckpointing === true }
    const train = buildLossGraph(runtime.config, shape, { ...lora, dropout: useDropout }, checkpointLayers)
    const optimizer = adamw({ weightDecay: options.weightDecay ?? 0, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999 })
    const step = trainStep(train.loss, { optimizer })
    const trainExe: Executable = yield* runtime.compile(step.program, step.carry.map((c) => c.output))

    const probe = buildLossGraph(runtime.config, shape, lora, checkpointLayers)
    const trainable = probe.graph.parameterList().filter((p) => p.trainable)
    const grads = gradients(probe.loss, trainable.map((p) => probe.graph.tensor(p.id)))
    probe.graph.output("loss", probe.loss)
    trainable.forEach((p, i) => probe.graph.output(`grad/${p.name}`, grads[i]!))
    const gradExe = yield* runtime.compile(eliminateDeadCode(probe.graph.build()), [])

    const initial = adapterFeeds(adapter)
    let state: Record<string, BackendFeed> = {}
    for (const binding of step.carry) {
      state[binding.input] = binding.init === "parameter"
        ? initial[binding.input]!
        : { dtype: "float32", shape: binding.shape, data: new Float32Array(binding.shape.reduce((a, b) => a * b, 1)) }
    }
    let stepNumber = 0
    const scalar = (value: number): HostTensor => ({ dtype: "float32", shape: [], data: Float32Array.of(value) })
    const readLoss = (tensor: DeviceTensor) => Effect.map(runtime.backend.download(tensor), (host) => (host.data as Float32Array)[0]!)
    const currentParams = () => Object.fromEntries(Object.keys(initial).map((name) => [name, state[name]!]))

    return {
      step: (sequences) =>
        Effect.gen(function* () {
          stepNumber += 1
          const out = yield* runtime.run(trainExe, {
            ...makeSftFeeds(runtime, sequences, options.batch, options.length),
            ...(useDropout ? dropoutMasks(adapter, options.batch, options.length, uniform) : {}),
            ...state,
            [stepInputNames.lr]: scalar(options.learningRate),
            [stepInputNames.step]: scalar(stepNumber)
          })
          const next: Record<string, BackendFeed> = {}
          for (const binding of step.carry) next[binding.input] = out[binding.output]!
          for (const old of Object.values(state)) if ("handle" in old) yield* Effect.ignore(runtime.backend.release(old))
          state = next
          return yield* readLoss(out.loss!)
        }),
      gradients: (sequences) =>
        Effect.gen(function* () {
          const out = yield* runtime.run(gradExe, { ...makeSftFeeds(runtime, sequences, options.batch, options.length), ...currentParams() })
          const result: Record<string, Float32Array> = {}
          for (const p of trainable) result[p.name] = (yield* runtime.backend.download(out[`grad/${p.name}`]!)).data as Float32Array
          return { loss: yield* readLoss(out.loss!), gradients: result }
        }),
      adapter: () =>
        Effect.gen(function* () {
          const pairs = new Map(adapter.pairs)
          for (const [module, pair] of adapter.pairs) {
            const read = (feed: BackendFeed) => ("handle" in feed ? Effect.map(runtime.backend.download(feed), (h) => h.data as Float32Array) : Effect.succeed(feed.data as Float32Array))
            const a = yield* read(state[`${module}.lora_A.weight`]!)
            const b = yield* read(state[`${module}.lora_B.weight`]!)
            pairs.set(module, { ...pair, a: Float32Array.from(a), b: Float32Array.from(b) })
          }
          return { config: adapter.config, pairs }
        })
    } satisfies LoraTrainer
  })
