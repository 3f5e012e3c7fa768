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

/** Options that belong to another policy term than the one chosen, as a message naming the fix. */
const policyLossMismatch = (form: string, o: { readonly delta?: unknown; readonly clipHigh?: unknown; readonly cispoMax?: unknown; readonly sapoTemperature?: unknown }): string | undefined => {
  if (form !== "clip" && o.delta !== undefined) return `delta applies to policyLoss clip, not ${form}: remove delta or set policyLoss: clip`
  if (form !== "clip" && o.clipHigh !== undefined) return `clipHigh applies to policyLoss clip, not ${form}${form === "cispo" ? " (cispo's cap is cispoMax, which TRL calls epsilon_high under loss_type cispo)" : ""}: remove clipHigh`
  if (form !== "cispo" && o.cispoMax !== undefined) return `cispoMax applies to policyLoss cispo, not ${form}: remove cispoMax or set policyLoss: cispo`
  if (form !== "sapo" && o.sapoTemperature !== undefined) return `sapoTemperature applies to policyLoss sapo, not ${form}: remove sapoTemperature or set policyLoss: sapo`
  return undefined
}

/** The options Schema with `d` as defaults. */
export const groupOptions = (d: GroupDefaults) =>
  Schema.Struct({
    /** A JSONL file of prompt records ({"prompt": …, "stop"?: […]}), instead of or besides the `prompts` input; relative to the recipe. */
    path: Schema.optionalKey(RecipePath("file", "JSONL file of prompt records, relative to the recipe's folder")).annotate({ description: "A JSONL file of prompt records ({\"prompt\": …, \"stop\"?: […]}), instead of or besides the `prompts` input; relative to the recipe." }),
    steps: positiveInt.annotate({ description: "Iterations (sample → reward → update). Ours: 100." }).pipe(withDefault(100)),
    /** Distinct prompts per iteration. Ours: 4. */
    promptsPerStep: positiveInt.annotate({ description: "Distinct prompts per iteration. Ours: 4." }).pipe(withDefault(4)),
    /** k: completions sampled per prompt (the group). */
    samplesPerPrompt: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)).annotate({ description: "k: completions sampled per prompt (the group)." }).pipe(withDefault(d.samplesPerPrompt)),
    /** Rollouts per optimizer update; default: all of the iteration's rollouts in one update. */
    miniBatchSize: Schema.optionalKey(positiveInt).annotate({ description: "Rollouts per optimizer update; default: all of the iteration's rollouts in one update." }),
    groupMinibatches: Schema.optionalKey(Schema.Boolean).annotate({ description: "With miniBatchSize below the iteration's rollouts: keep each group (a prompt's k completions) in one minibatch (a seeded shuffle of the groups, not TRL's shuffle of the rollouts), so llama/hf runs each prompt once per update (shared prompts); the minibatches then hold correlated rollouts. Default false." }),
    /** Sequences per forward/backward inside an update (gradient accumulation). */
    microBatchSize: Schema.optionalKey(positiveInt).annotate({ description: "Sequences per forward/backward inside an update (gradient accumulation). Micro-batches are weighted by their completion tokens (aggregation token) or their sequences (sequence, constant), so the update is the one without accumulation." }),
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
    /** GRPO only: how centred rewards are scaled (TRL `scale_rewards`: group). */
    scaleRewards: Schema.Union([Schema.Boolean, Schema.Literals(["group", "batch", "none"])]).annotate({ description: "GRPO only: divide the centred rewards by the group's std (`group` or true: TRL's `scale_rewards` default), by the std of all the iteration's rewards (`batch`: PPO Lite), or not at all (`none` or false: Dr. GRPO)." }).pipe(withDefault("group")),
    /** The policy term: clip (PPO's clipped surrogate), cispo (MiniMax-M1), sapo (soft gate). */
    policyLoss: Schema.Literals(["clip", "cispo", "sapo"]).annotate({ description: "The policy term (TRL's `loss_type` families): `clip` (the clipped surrogate, default), `cispo` (MiniMax-M1: −sg(min(ρ, cispoMax))·A·log π, the importance weight clipped and detached so every token keeps a gradient) or `sapo` (Soft Adaptive Policy Optimization: −σ(τ(ρ − 1))·(4/τ)·A, a smooth gate instead of the hard clip)." }).pipe(withDefault("clip")),
    /** INTELLECT-2's two-sided clipping: cap the unclipped ratio at δ (TRL `delta`; > 1 + clipHigh recommended). */
    delta: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(1))).annotate({ description: "policyLoss clip only: also cap the unclipped ratio at δ, so a negative advantage is never multiplied by an unbounded ratio (INTELLECT-2's two-sided clipping; TRL `delta`, off by default; pick δ > 1 + clipHigh, e.g. 4)." }),
    /** CISPO's ε_max (ScaleRL: 5; TRL reads `epsilon_high` for it). */
    cispoMax: Schema.optionalKey(positive).annotate({ description: "policyLoss cispo only: ε_max, the cap of the detached importance weight (default 5, ScaleRL's; TRL reads its `epsilon_high` for this under loss_type cispo)." }),
    /** SAPO's gate temperatures (TRL `sapo_temperature_pos` 1, `sapo_temperature_neg` 1.05). */
    sapoTemperature: Schema.optionalKey(Schema.Struct({
      positive: positive.annotate({ description: "τ for tokens with a positive advantage (TRL `sapo_temperature_pos`: 1)." }).pipe(withDefault(1)),
      negative: positive.annotate({ description: "τ for the other tokens (TRL `sapo_temperature_neg`: 1.05)." }).pipe(withDefault(1.05))
    })).annotate({ description: "policyLoss sapo only: the gate's temperatures; a higher τ closes the gate faster as the ratio leaves 1." }),
    /** ρ: train the policy term on the top-ρ share of tokens by entropy (TRL `top_entropy_quantile`: 1). */
    topEntropyQuantile: unit.annotate({ description: "ρ: only the top-ρ share of the minibatch's completion tokens by entropy carry the policy term (Wang et al. 2025, \"Beyond the 80/20 rule\": 0.2; TRL `top_entropy_quantile`, default 1 = every token). The others add 0 but still count in the aggregation; the KL term stays on every token. Entropies are the rollout policy's, measured before the iteration's updates (TRL measures them at each update, the same at the first)." }).pipe(withDefault(1)),
    /** c: entropy bonus (TRL `entropy_coef`: 0). */
    entropyCoef: nonNegative.annotate({ description: "c: subtract c × the mean entropy of the tokens that carry the policy term (an exploration bonus; TRL `entropy_coef`, default 0: no entropy computed in the update). With adaptiveEntropy: the initial coefficient." }).pipe(withDefault(0)),
    /** Skywork-OR1's adaptive entropy control (TRL `use_adaptive_entropy`). */
    adaptiveEntropy: Schema.optionalKey(Schema.Struct({
      target: nonNegative.annotate({ description: "Entropy (nats per token) at or below which the coefficient rises and applies (TRL `entropy_target`: 0.2; set it near the entropy seen early in training)." }).pipe(withDefault(0.2)),
      delta: positive.annotate({ description: "Step of the coefficient per optimizer update (TRL `entropy_coef_delta`: 0.005)." }).pipe(withDefault(0.005)),
      min: nonNegative.annotate({ description: "Lower bound of the coefficient (TRL `entropy_coef_min`: 0)." }).pipe(withDefault(0)),
      max: nonNegative.annotate({ description: "Upper bound of the coefficient (TRL `entropy_coef_max`: 1)." }).pipe(withDefault(1))
    }).annotate({ description: "Adaptive entropy control (Skywork-OR1; TRL `use_adaptive_entropy`): after each optimizer update the coefficient (starting at entropyCoef) steps up by delta when the update's entropy is at or below target, else down, within [min, max]; an update applies it only while the last measured entropy is at or below target (none before the first). Recorded as entropy_coef; resumes with the checkpoint." })),
    /** DeepSeek-V3.2's off-policy sequence mask δ (TRL `off_policy_mask_threshold`: off). */
    offPolicyMask: Schema.optionalKey(positive).annotate({ description: "δ: drop the policy term of a completion whose advantage is negative and whose mean log π_old − log π over its tokens exceeds δ — it has drifted too far from the policy that sampled it (DeepSeek-V3.2's off-policy sequence masking; TRL `off_policy_mask_threshold`, off by default, e.g. 0.5). Matters only with several updates per batch (iterations > 1 or minibatches)." }),
    /** Multiply the k3 KL by the importance ratio (TRL `use_bias_correction_kl`: false). */
    biasCorrectedKl: Schema.Boolean.annotate({ description: "Multiply the k3 KL by the importance ratio ρ, an unbiased estimate when the rollouts came from an older policy (DeepSeek-V3.2; TRL `use_bias_correction_kl`, default false)." }).pipe(withDefault(false)),
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
  }).check(Schema.makeFilter<{ readonly policyLoss?: string; readonly delta?: unknown; readonly clipHigh?: unknown; readonly cispoMax?: unknown; readonly sapoTemperature?: unknown; readonly adaptiveEntropy?: { readonly min?: number; readonly max?: number } }>((o) =>
    policyLossMismatch(o.policyLoss ?? "clip", o) ??
      (o.adaptiveEntropy !== undefined && (o.adaptiveEntropy.min ?? 0) > (o.adaptiveEntropy.max ?? 1) ? `adaptiveEntropy: min ${o.adaptiveEntropy.min ?? 0} exceeds max ${o.adaptiveEntropy.max ?? 1}, which leaves the coefficient no room: lower min or raise max` : undefined)))

export const GrpoOptions = groupOptions(grpoDefaults)
/** RLOO's baseline is the leave-one-out mean, never scaled: a scaleRewards other than the default was accepted and ignored. */
export const RlooOptions = groupOptions(rlooDefaults).check(Schema.makeFilter<{ readonly scaleRewards?: unknown }>((o) =>
  o.scaleRewards === undefined || o.scaleRewards === "group" || o.scaleRewards === true
    ? undefined
    : `scaleRewards applies to grpo/train only (RLOO's leave-one-out baseline is not scaled): remove scaleRewards`))
export type GroupOptions = typeof GrpoOptions.Type

/** `scaleRewards` as one of TRL's names (true: group, false: none). */
export const rewardScaleOf = (o: GroupOptions["scaleRewards"]): "group" | "batch" | "none" => (o === true ? "group" : o === false ? "none" : o)
