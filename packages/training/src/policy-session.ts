/**
 * A `PolicySession` is one trainer's view of a policy: its own LoRA adapter,
 * optimizer moments, optional value head and random stream, over frozen base
 * weights shared with every other session of the same `PolicyModel`. Sessions
 * never change the resource they come from, so cache keys stay honest; the
 * trained result leaves through `exportAdapter` (a PEFT folder) and
 * `checkpoint` (exact resume).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { nllObjective, type PolicySession, type TokenSequence } from "@refine-af/training"
 * const sftStep = (session: PolicySession, batch: ReadonlyArray<TokenSequence>) =>
 *   Effect.gen(function* () {
 *     const { loss, gradNorm } = yield* session.step(nllObjective, batch, {}, { lr: 1e-4, clipGradNorm: 1 })
 *     return { loss, gradNorm }
 *   })
 * ```
 */
import type { Json, LanguageModelService, SamplingParams } from "@refine-af/core"
import type { Effect } from "effect"
import type { PolicyError } from "./errors.ts"
import type { Objective, ObjectiveFeeds } from "./objective.ts"
import type { Heads, Sampled, TokenSequence } from "./sequences.ts"

/** Which extra heads `evaluate` computes, and under which weights. */
export interface EvaluateOptions {
  readonly values?: boolean
  readonly entropy?: boolean
  /** Evaluate the frozen reference policy: the adapter switched off (base weights only). */
  readonly reference?: boolean
}

/** Per-update settings (schedules live in the algorithm; nothing here recompiles). */
export interface StepHyper {
  /** Learning rate of this update. */
  readonly lr: number
  /** Clip the global gradient L2 norm (torch's `clip_grad_norm_`). */
  readonly clipGradNorm?: number
  /**
   * Gradient accumulation: split the batch into micro-batches of at most this many
   * sequences, combine their gradients (and losses) as `accumulation` says, apply one update.
   * Default: the whole batch at once.
   */
  readonly microBatchSize?: number
  /**
   * How micro-batches combine: `mean` (default) gives each micro-batch the same weight, as
   * accelerate's gradient accumulation does (TRL's PPO); `tokens` weights each by its completion
   * tokens (mask = 1), so an objective that is a token mean gives the same update as the whole
   * batch at once (Hugging Face Trainer's `num_items_in_batch`); `sequences` weights each by its
   * sequences, the same for an objective that is a mean over sequences (a last, smaller
   * micro-batch included). Micro-batching then changes memory, not the objective.
   */
  readonly accumulation?: "mean" | "tokens" | "sequences"
}

/** What one update reports. */
export interface StepResult {
  /** The objective's loss before the update (over micro-batches, as `StepHyper.accumulation` combines them). */
  readonly loss: number
  /** Global gradient L2 norm before clipping. */
  readonly gradNorm: number
  /** The objective's `metrics`, combined over micro-batches as the loss is. */
  readonly metrics: Readonly<Record<string, number>>
  /** Completion tokens (mask = 1) the update learned from. */
  readonly tokens: number
  /** Updates applied so far by this session, this one included (1-based). */
  readonly step: number
}

/** What `session({ resumeFrom })` found in a checkpoint. */
export interface Restored {
  /** Updates already applied when the checkpoint was written. */
  readonly step: number
  /** The algorithm's own state stored with it (`checkpoint(dir, trainerState)`). */
  readonly trainerState?: Json
}

export interface PolicySession {
  /** Samples one completion per prompt (token ids). Uses the session's random stream unless `params.seed` is set. */
  readonly sample: (prompts: ReadonlyArray<ReadonlyArray<number>>, params: SamplingParams) => Effect.Effect<ReadonlyArray<Sampled>, PolicyError>
  /** Per-completion-token heads of each sequence, in batch order; no dropout, no update. */
  readonly evaluate: (batch: ReadonlyArray<TokenSequence>, want?: EvaluateOptions) => Effect.Effect<ReadonlyArray<Heads>, PolicyError>
  /**
   * One optimizer update: forward + objective + backward + (clipping) + AdamW, compiled as one
   * program per (objective, shape bucket). Fails with reason `NonFinite` (and leaves
   * the weights untouched) when the loss or the gradient norm is not finite.
   */
  readonly step: <F extends string>(
    objective: Objective<F>,
    batch: ReadonlyArray<TokenSequence>,
    feeds: ObjectiveFeeds<F>,
    hyper: StepHyper
  ) => Effect.Effect<StepResult, PolicyError>
  /** Updates applied so far (the restored count after a resume). */
  readonly steps: () => number
  /** What the session resumed from; undefined for a fresh session. */
  readonly restored: Restored | undefined
  /**
   * Writes adapter, value head, optimizer moments, random state and step count into `dir`
   * (atomically: a kill mid-write leaves the previous checkpoint), with the algorithm's
   * `trainerState` beside them. A session opened with `resumeFrom: dir` continues bitwise identically.
   */
  readonly checkpoint: (dir: string, trainerState?: Json) => Effect.Effect<void, PolicyError>
  /** Writes the current adapter as a PEFT folder (`adapter_config.json`, `adapter_model.safetensors`). */
  readonly exportAdapter: (dir: string) => Effect.Effect<void, PolicyError>
  /** The current weights (base + adapter as of each call) as a plain `LanguageModel`. */
  readonly lm: LanguageModelService
}
