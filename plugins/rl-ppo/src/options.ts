/**
 * Options of `ppo/train`. Defaults marked TRL are those of TRL's classic
 * `PPOConfig` (the REFINE-AF paper does not state its values); the rest are ours.
 *
 * @example
 * ```yaml
 * ppo:
 *   _component_: ppo/train
 *   prompts: rl_prompts
 *   policy: policy
 *   reward: reward
 *   steps: 50
 *   batchSize: 16
 *   miniBatchSize: 4
 *   sampling: { maxNewTokens: 48 }
 * ```
 */
import { Schema } from "effect"
import { RecipePath } from "@refine-af/core"
import { LoraOptions, rlOptionFields, scheduleFields } from "@refine-af/training"

const { nonNegative, positive, positiveInt, unit } = rlOptionFields
/** Optional in the recipe, `value` when absent. */
export const withDefault = rlOptionFields.withDefault

export const PpoOptions = Schema.Struct({
  /** PPO iterations (sample → reward → update). Ours: 100. */
  /** A JSONL file of prompt records ({"prompt": …, "stop"?: […]}), instead of or besides the `prompts` input; relative to the recipe. */
  path: Schema.optionalKey(RecipePath("file", "JSONL file of prompt records, relative to the recipe's folder")).annotate({ description: "A JSONL file of prompt records ({\"prompt\": …, \"stop\"?: […]}), instead of or besides the `prompts` input; relative to the recipe." }),
  steps: positiveInt.annotate({ description: "PPO iterations (sample → reward → update). Ours: 100." }).pipe(withDefault(100)),
  /** Rollouts per iteration (TRL `batch_size`: 128). */
  batchSize: positiveInt.annotate({ description: "Rollouts per iteration (TRL `batch_size`: 128)." }).pipe(withDefault(128)),
  /** Rollouts per optimizer update (TRL `mini_batch_size`: 128). */
  miniBatchSize: positiveInt.annotate({ description: "Rollouts per optimizer update (TRL `mini_batch_size`: 128)." }).pipe(withDefault(128)),
  /** Sequences per forward/backward inside an update (gradient accumulation); default: the whole minibatch. */
  microBatchSize: Schema.optionalKey(positiveInt).annotate({ description: "Sequences per forward/backward inside an update (gradient accumulation); default: the whole minibatch." }),
  /** Recompute each decoder layer in the backward pass (less memory, more compute). */
  groupMinibatches: Schema.optionalKey(Schema.Boolean).annotate({ description: "Keep the rollouts of one prompt in the same minibatch (a seeded shuffle of the prompts, not TRL's shuffle of the rollouts), so llama/hf runs each prompt once per update (shared prompts). Matters when batchSize exceeds the prompts a step draws (several rollouts per prompt); the minibatches then hold correlated rollouts. Default false." }),
  gradientCheckpointing: Schema.optionalKey(Schema.Boolean).annotate({ description: "Gradient checkpointing: recompute each decoder layer's activations in the backward pass instead of keeping them (about a third more compute per step, activation memory of one layer instead of all; same gradients). Default false." }),
  /** Passes over each batch (TRL `ppo_epochs`: 4). */
  ppoEpochs: positiveInt.annotate({ description: "Passes over each batch (TRL `ppo_epochs`: 4)." }).pipe(withDefault(4)),
  /** Peak AdamW learning rate (TRL `learning_rate`: 1.41e-5; see `schedule`, `warmupSteps`). */
  lr: positive.annotate({ description: "Peak AdamW learning rate (TRL `learning_rate`: 1.41e-5; see schedule and warmupSteps)." }).pipe(withDefault(1.41e-5)),
  /** Decay and warmup over the run's iterations, one scheduler step per iteration as TRL's classic `PPOTrainer` (default: constant, TRL's `lr_scheduler` None). */
  ...scheduleFields("constant", "TRL classic PPO has no scheduler by default and steps one per iteration", "iterations"),
  /** Zero the loss of a micro-batch whose mean probability ratio exceeds this (TRL `ratio_threshold`: 10). */
  ratioThreshold: positive.annotate({ description: "Skip (zero the loss of) a micro-batch whose mean probability ratio π/π_old over its completion tokens exceeds this (TRL `ratio_threshold`: 10)." }).pipe(withDefault(10)),
  /** Skip an iteration's remaining PPO epochs once an epoch's last update had a policy KL above 1.5 × this (TRL `early_stopping` + `target_kl`; default off). */
  targetKl: Schema.optionalKey(positive).annotate({ description: "Early stopping, at the epoch level as TRL: after each PPO epoch, when its last minibatch update's policy KL (mean of old − new log-probabilities, before that update) exceeds 1.5 × this, the iteration's remaining epochs are skipped (TRL `early_stopping: true` with `target_kl`, whose default is 1). Default: off." }),
  /** Clip the gradient norm (TRL `max_grad_norm`: none). */
  maxGradNorm: Schema.optionalKey(positive).annotate({ description: "Clip the gradient norm (TRL `max_grad_norm`: none)." }),
  /** Discount γ (TRL `gamma`: 1). */
  gamma: unit.annotate({ description: "Discount γ (TRL `gamma`: 1)." }).pipe(withDefault(1)),
  /** GAE λ (TRL `lam`: 0.95). */
  lambda: unit.annotate({ description: "GAE λ (TRL `lam`: 0.95)." }).pipe(withDefault(0.95)),
  /** Ratio clip ε (TRL `cliprange`: 0.2). */
  clip: positive.annotate({ description: "Ratio clip ε (TRL `cliprange`: 0.2)." }).pipe(withDefault(0.2)),
  /** Value clip (TRL `cliprange_value`: 0.2). */
  clipValue: positive.annotate({ description: "Value clip (TRL `cliprange_value`: 0.2)." }).pipe(withDefault(0.2)),
  /** Value-loss weight (TRL `vf_coef`: 0.1). */
  valueCoef: nonNegative.annotate({ description: "Value-loss weight (TRL `vf_coef`: 0.1)." }).pipe(withDefault(0.1)),
  /** Entropy bonus (ours: 0; TRL has none). */
  entropyCoef: nonNegative.annotate({ description: "Entropy bonus (ours: 0; TRL has none)." }).pipe(withDefault(0)),
  /** KL penalty: estimator, controller and its constants (TRL: `kl_penalty: kl` = k1, adaptive, init 0.2, target 6, horizon 10000). */
  kl: Schema.Struct({
    estimator: Schema.Literals(["k1", "k2", "k3"]).annotate({ description: "KL estimator per token: k1 = log ratio (TRL's kl), k2 = ½ log², k3 = the unbiased low-variance one." }).pipe(withDefault("k1")),
    controller: Schema.Literals(["adaptive", "fixed"]).annotate({ description: "adaptive: the coefficient follows the target KL (Ziegler et al.); fixed: it stays at initial." }).pipe(withDefault("adaptive")),
    initial: nonNegative.annotate({ description: "Starting KL coefficient." }).pipe(withDefault(0.2)),
    target: positive.annotate({ description: "Target KL of the adaptive controller." }).pipe(withDefault(6)),
    horizon: positive.annotate({ description: "Horizon (in samples) of the adaptive controller's update." }).pipe(withDefault(10000))
  }).annotate({ description: "KL penalty: estimator, controller and its constants (TRL: k1, adaptive, init 0.2, target 6, horizon 10000)." }).pipe(withDefault({})),
  /** Score preprocessing (TRL `use_score_scaling`, `use_score_norm`, `score_clip`: off). */
  scores: Schema.Struct({
    scale: Schema.Boolean.annotate({ description: "Divide scores by their running standard deviation (TRL use_score_scaling)." }).pipe(withDefault(false)),
    normalize: Schema.Boolean.annotate({ description: "With scale, also subtract the running mean (TRL use_score_norm)." }).pipe(withDefault(false)),
    clip: Schema.optionalKey(positive.annotate({ description: "Clip scores to ±this after scaling (TRL score_clip; default off)." }))
  }).annotate({ description: "Score preprocessing (TRL use_score_scaling, use_score_norm, score_clip: off)." }).pipe(withDefault({})),
  /** Whiten the KL-shaped rewards before GAE (TRL `whiten_rewards`: false). */
  whitenRewards: Schema.Boolean.annotate({ description: "Whiten the KL-shaped rewards before GAE (TRL `whiten_rewards`: false)." }).pipe(withDefault(false)),
  /** Sampling of rollouts (ours: 32 new tokens, temperature 1, no top-k/top-p, as TRL recommends for PPO). */
  sampling: Schema.Struct({
    maxNewTokens: positiveInt.annotate({ description: "Most tokens per sampled completion." }).pipe(withDefault(32)),
    temperature: positive.annotate({ description: "Sampling temperature of rollouts." }).pipe(withDefault(1)),
    topK: Schema.optionalKey(positiveInt.annotate({ description: "Sample only from the k most likely tokens (default: all)." })),
    topP: Schema.optionalKey(unit.annotate({ description: "Nucleus sampling threshold (default: off)." })),
    stop: Schema.Array(Schema.String).annotate({ description: "Stop strings: a completion ends before the first one." }).pipe(withDefault([]))
  }).annotate({ description: "Sampling of rollouts (ours: 32 new tokens, temperature 1, no top-k/top-p)." }).pipe(withDefault({})),
  /** The LoRA adapter (training's defaults: rank 8, alpha 16, q_proj/v_proj). */
  lora: Schema.optionalKey(LoraOptions).annotate({ description: "The LoRA adapter (training's defaults: rank 8, alpha 16, q_proj/v_proj)." }),
  /** Write a resumable checkpoint every this many iterations (ours: 10) and after the last. */
  checkpointEvery: positiveInt.annotate({ description: "Write a resumable checkpoint every this many iterations (ours: 10) and after the last." }).pipe(withDefault(10))
}).check(Schema.makeFilter<{ readonly batchSize?: number; readonly miniBatchSize?: number; readonly microBatchSize?: number }>((o) => batchSizesProblem(o.batchSize ?? 128, o.miniBatchSize ?? 128, o.microBatchSize)))
export type PpoOptions = typeof PpoOptions.Type

/**
 * Batch sizes TRL's PPOConfig would refuse too: minibatches must split the rollouts of an
 * iteration evenly (uneven ones gave updates of 3 and 1 rollouts), and a micro-batch must fit in
 * a minibatch (a larger one did nothing).
 */
export const batchSizesProblem = (batchSize: number, miniBatchSize: number, microBatchSize: number | undefined): string | undefined =>
  miniBatchSize > batchSize ? `miniBatchSize ${miniBatchSize} is larger than batchSize ${batchSize}: lower miniBatchSize to at most ${batchSize}`
  : batchSize % miniBatchSize !== 0 ? `miniBatchSize ${miniBatchSize} does not divide batchSize ${batchSize} (the last minibatch would hold ${batchSize % miniBatchSize}): choose a divisor of ${batchSize}`
  : microBatchSize !== undefined && microBatchSize > miniBatchSize ? `microBatchSize ${microBatchSize} is larger than miniBatchSize ${miniBatchSize}: lower it, or leave it out`
  : undefined
