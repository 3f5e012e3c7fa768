/**
 * Options of `grpo/train` and `rloo/train`. Defaults marked TRL are those of
 * TRL's `GRPOConfig` / `RLOOConfig` (the REFINE-AF paper uses PPO and states no
 * values for these); the rest are ours.
 *
 * @example
 * ```yaml
 * grpo: { _component_: grpo/train, prompts: rl_prompts, policy: policy, reward: reward, steps: 30, samplesPerPrompt: 4 }
 * ```
 */
import { Schema } from "effect"
import { RecipePath } from "@refine-af/core"
import { LoraOptions } from "../../lora.ts"
import { nonNegative, positive, positiveInt, scheduleFields, unit, withDefault } from "../loop/option-fields.ts"

/** The algorithm-specific defaults. */
export interface GroupDefaults {
  readonly samplesPerPrompt: number
  readonly lr: number
  readonly beta: number
  readonly aggregation: "sequence" | "token" | "constant"
}

/** GRPO: TRL `num_generations` 8, `learning_rate` 1e-6, `beta` 0.04 (TRL ≤ 0.17; later TRL defaults to 0); the paper's per-sequence mean. */
export const grpoDefaults: GroupDefaults = { samplesPerPrompt: 8, lr: 1e-6, beta: 0.04, aggregation: "sequence" }
/** RLOO: TRL `rloo_k` 2, `learning_rate` 3e-6, `kl_coef` 0.05 (TRL adds k1 KL to the reward; ours is k3 in the loss); token mean. */
export const rlooDefaults: GroupDefaults = { samplesPerPrompt: 2, lr: 3e-6, beta: 0.05, aggregation: "token" }

/** The options Schema with `d` as defaults. */
export const groupOptions = (d: GroupDefaults) =>
  Schema.Struct({
    /** Iterations (sample → reward → update). Ours: 100. */
    /** A JSONL file of prompt records ({"prompt": …, "stop"?: […]}), instead of or besides the `prompts` input; relative to the recipe. */
    path: Schema.optionalKey(RecipePath("file", "JSONL file of prompt records, relative to the recipe's folder")).annotate({ description: "A JSONL file of prompt records ({\"prompt\": …, \"stop\"?: […]}), instead of or besides the `prompts` input; relative to the recipe." }),
    steps: positiveInt.annotate({ description: "Iterations (sample → reward → update). Ours: 100." }).pipe(withDefault(100)),
    /** Distinct prompts per iteration. Ours: 4. */
    promptsPerStep: positiveInt.annotate({ description: "Distinct prompts per iteration. Ours: 4." }).pipe(withDefault(4)),
    /** k: completions sampled per prompt (the group). */
    samplesPerPrompt: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)).annotate({ description: "k: completions sampled per prompt (the group)." }).pipe(withDefault(d.samplesPerPrompt)),
    /** Rollouts per optimizer update; default: all of the iteration's rollouts in one update. */
    miniBatchSize: Schema.optionalKey(positiveInt).annotate({ description: "Rollouts per optimizer update; default: all of the iteration's rollouts in one update." }),
    /** Sequences per forward/backward inside an update (gradient accumulation). */
    microBatchSize: Schema.optionalKey(positiveInt).annotate({ description: "Sequences per forward/backward inside an update (gradient accumulation)." }),
    /** Recompute each decoder layer in the backward pass (less memory, more compute). */
    gradientCheckpointing: Schema.optionalKey(Schema.Boolean).annotate({ description: "Gradient checkpointing: recompute each decoder layer's activations in the backward pass instead of keeping them (about a third more compute per step, activation memory of one layer instead of all; same gradients). Default false." }),
    /** μ: passes over each batch (TRL `num_iterations`: 1; the clip matters only above 1). */
    iterations: positiveInt.annotate({ description: "μ: passes over each batch (TRL `num_iterations`: 1; the clip matters only above 1)." }).pipe(withDefault(1)),
    /** Peak AdamW learning rate (see `schedule`, `warmupSteps`). */
    lr: positive.annotate({ description: "Peak AdamW learning rate (see schedule and warmupSteps)." }).pipe(withDefault(d.lr)),
    /** Decay and warmup over the run's optimizer updates (TRL: Hugging Face Trainer's `lr_scheduler_type` linear, no warmup). */
    ...scheduleFields("linear", "TRL's default, Hugging Face Trainer's lr_scheduler_type", "optimizer updates"),
    /** Clip the gradient norm (TRL `max_grad_norm`: 1). */
    maxGradNorm: positive.annotate({ description: "Clip the gradient norm (TRL `max_grad_norm`: 1)." }).pipe(withDefault(1)),
    /** Ratio clip ε (TRL `epsilon`: 0.2). */
    clip: positive.annotate({ description: "Ratio clip ε (TRL `epsilon`: 0.2)." }).pipe(withDefault(0.2)),
    /** Upper ratio clip ε_high (TRL `epsilon_high`, DAPO's clip-higher); default: clip. */
    clipHigh: Schema.optionalKey(positive).annotate({ description: "Upper ratio clip: the ratio is clipped to [1 − clip, 1 + clipHigh] (TRL `epsilon_high`; DAPO's \"clip-higher\" uses 0.28 with clip 0.2). Default: clip." }),
    /** β: weight of the k3 KL to the reference (0 skips the reference pass). */
    beta: nonNegative.annotate({ description: "β: weight of the k3 KL to the reference (0 skips the reference pass)." }).pipe(withDefault(d.beta)),
    /** `sequence`: token mean per sequence, then mean (GRPO paper); `token`: mean over all tokens; `constant`: Dr. GRPO. */
    aggregation: Schema.Literals(["sequence", "token", "constant"]).annotate({ description: "`sequence`: token mean per sequence, then mean (GRPO paper; TRL loss_type grpo); `token`: mean over all completion tokens (TRL bnpo, DAPO); `constant`: sum over tokens / (sequences × sampling.maxNewTokens), no length bias (Dr. GRPO; TRL dr_grpo, with scaleRewards: false)." }).pipe(withDefault(d.aggregation)),
    /** `token`: a probability ratio per token; `sequence`: GSPO's one per sequence (TRL `importance_sampling_level`: token). */
    importanceSampling: Schema.Literals(["token", "sequence"]).annotate({ description: "`token`: a probability ratio per token (GRPO); `sequence`: one ratio per completion, e^(mean over its tokens of log π − log π_old), clipped as a whole (GSPO; TRL `importance_sampling_level`, default token). GSPO's paper uses much smaller clips (e.g. clip 3e-4, clipHigh 4e-4)." }).pipe(withDefault("token")),
    /** Completions cut off by sampling.maxNewTokens add nothing to the loss (TRL `mask_truncated_completions`: false; DAPO). */
    maskTruncated: Schema.Boolean.annotate({ description: "Completions cut off by sampling.maxNewTokens (no end of sequence, no stop string) add nothing to the loss or its token counts (TRL `mask_truncated_completions`, default false; DAPO recommends it). Their rewards still shape their group's advantages." }).pipe(withDefault(false)),
    /** GRPO only: divide by the group's std (TRL `scale_rewards`: true); false = Dr. GRPO. */
    scaleRewards: Schema.Boolean.annotate({ description: "GRPO only: divide by the group's std (TRL `scale_rewards`: true); false = Dr. GRPO." }).pipe(withDefault(true)),
    /** Sampling (ours: 32 new tokens; temperature TRL's 1). */
    sampling: Schema.Struct({
      maxNewTokens: positiveInt.annotate({ description: "Most tokens per sampled completion." }).pipe(withDefault(32)),
      temperature: positive.annotate({ description: "Sampling temperature of rollouts." }).pipe(withDefault(1)),
      topK: Schema.optionalKey(positiveInt.annotate({ description: "Sample only from the k most likely tokens (default: all)." })),
      topP: Schema.optionalKey(unit.annotate({ description: "Nucleus sampling threshold (default: off)." })),
      stop: Schema.Array(Schema.String).annotate({ description: "Stop strings: a completion ends before the first one." }).pipe(withDefault([]))
    }).annotate({ description: "Sampling of rollouts." }).pipe(withDefault({})),
    /** The LoRA adapter (training's defaults: rank 8, alpha 16, q_proj/v_proj). */
    lora: Schema.optionalKey(LoraOptions).annotate({ description: "The LoRA adapter (training's defaults: rank 8, alpha 16, q_proj/v_proj)." }),
    /** Write a resumable checkpoint every this many iterations (ours: 10) and after the last. */
    checkpointEvery: positiveInt.annotate({ description: "Write a resumable checkpoint every this many iterations (ours: 10) and after the last." }).pipe(withDefault(10))
  })

export const GrpoOptions = groupOptions(grpoDefaults)
export const RlooOptions = groupOptions(rlooDefaults)
export type GroupOptions = typeof GrpoOptions.Type
