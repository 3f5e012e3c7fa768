/**
 * The group-baseline trainer behind `grpo/train` (plugin `@refine-af/rl-grpo`)
 * and `rloo/train` (`@refine-af/rl-rloo`) — policy-gradient RL with group baselines and
 * no value head: sample k completions per prompt, reward them, turn each group's
 * rewards into advantages (GRPO: standardise within the group; RLOO: subtract
 * the mean of the other k − 1), and update with the clipped surrogate plus β·k3
 * KL to the reference (the adapter switched off). One record of metrics per
 * iteration; resumable checkpoints in `ctx.stateDir`; the final adapter as a
 * PEFT folder in `<stage dir>/adapter`; for the run report `curves.jsonl`
 * (reward, KL, loss, entropy per iteration) and, in `data.report`, three
 * rollouts of the last iteration with their reward parts.
 *
 * @example
 * ```yaml
 * grpo: { _component_: grpo/train, prompts: rl_prompts, policy: policy, reward: reward, steps: 30 }
 * ```
 */
import { join } from "node:path"
import { Effect, Schema } from "effect"
import { defineStage, Reward, type Json, type JsonRecord, type StageContext } from "@refine-af/core"
import { PolicyModel } from "../../policy-model.ts"
import type { StepResult } from "../../policy-session.ts"
import { loraConfigFrom } from "../../lora.ts"
import { learningRate } from "../../schedule.ts"
import { groupObjective } from "../objectives/group.ts"
import { grpoAdvantages, rlooAdvantages } from "../group-baselines.ts"
import { highEntropyMask } from "../entropy-mask.ts"
import { klPerToken } from "../kl.ts"
import { flatMean, std } from "../stats.ts"
import { groupedMinibatches, minibatches, promptIndices } from "../loop/order.ts"
import { encodePrompts, sampleWithStops } from "../loop/prompts.ts"
import { loadPromptRecords } from "../loop/prompt-source.ts"
import { checkLoraTargets } from "../loop/lora-targets.ts"
import { checkFiniteRewards } from "../loop/finite.ts"
import { asTrainerStageError } from "../loop/stage-error.ts"
import { emitMetrics, iterationRecord, meanStepMetrics } from "../loop/iteration-metrics.ts"
import { finalOutcomeOf, rolloutSamples, withFinalOutcome, writeIterationCurves } from "../loop/report-material.ts"
import { openResumableSession } from "../loop/resume-session.ts"
import { saturationWatch } from "../../saturation.ts"
import { GrpoOptions, RlooOptions, rewardScaleOf, type GroupOptions } from "./options.ts"

type Uses = { readonly policy: PolicyModel["Service"]; readonly reward: Reward["Service"] }
/** Which group baseline: GRPO (standardised within the group) or RLOO (leave-one-out). */
export type GroupAlgorithm = "grpo" | "rloo"

const seconds = (from: number) => (performance.now() - from) / 1000

/**
 * Adaptive entropy control (Skywork-OR1; TRL's `use_adaptive_entropy`): after
 * each optimizer update, the coefficient steps up by `delta` when the update's
 * entropy (over the tokens carrying the policy term) is at or below `target`,
 * else down, within [min, max]; the next update applies it only while that last
 * entropy is at or below the target (none before the first measurement).
 */
export interface EntropyControl {
  coef: number
  /** The last update's entropy (null: none measured yet, TRL's +∞). */
  lastEntropy: number | null
}

export const applyingCoef = (control: EntropyControl, target: number): number => (control.lastEntropy !== null && control.lastEntropy <= target ? control.coef : 0)

export const stepEntropyControl = (control: EntropyControl, entropy: number, settings: { readonly target: number; readonly delta: number; readonly min: number; readonly max: number }): EntropyControl => ({
  coef: entropy <= settings.target ? Math.min(control.coef + settings.delta, settings.max) : Math.max(control.coef - settings.delta, settings.min),
  lastEntropy: entropy
})

/** A field of the trainer state stored beside the session's checkpoint (undefined for a fresh run). */
const storedField = (json: Json | undefined, key: string): Json | undefined =>
  json !== null && typeof json === "object" && !Array.isArray(json) ? (json as Record<string, Json>)[key] : undefined

/** The controller stored beside a checkpoint, or the initial one. */
const storedControl = (json: Json | undefined, initialCoef: number): EntropyControl => {
  const stored = storedField(json, "entropyControl")
  const coef = storedField(stored, "coef")
  const lastEntropy = storedField(stored, "lastEntropy")
  return { coef: typeof coef === "number" ? coef : initialCoef, lastEntropy: typeof lastEntropy === "number" ? lastEntropy : null }
}
/** Iterations completed, as stored beside the session's checkpoint (0 for a fresh run). */
const storedStep = (json: Json | undefined): number => {
  const step = storedField(json, "step")
  return typeof step === "number" ? step : 0
}

const run = (algorithm: GroupAlgorithm) => (ctx: StageContext<GroupOptions, Uses>) =>
  Effect.gen(function* () {
    const o = ctx.options
    const k = o.samplesPerPrompt
    const { policy, reward } = ctx.uses
    const lora = loraConfigFrom(o.lora, policy.info)
    yield* checkLoraTargets(ctx.name, policy.info, lora)
    const prompts = yield* encodePrompts(ctx.name, policy, yield* loadPromptRecords(ctx.name, ctx.inputs["prompts"], o.path), o.sampling.maxNewTokens)
    const highEntropy = o.topEntropyQuantile < 1
    const adaptive = o.adaptiveEntropy
    const objective = groupObjective({
      clip: o.clip, ...(o.clipHigh === undefined ? {} : { clipHigh: o.clipHigh }), beta: o.beta, aggregation: o.aggregation, constantLength: o.sampling.maxNewTokens,
      maskTruncated: o.maskTruncated, importanceSampling: o.importanceSampling, policyLoss: o.policyLoss, highEntropy, biasCorrectedKl: o.biasCorrectedKl,
      ...(adaptive === undefined ? { entropyCoef: o.entropyCoef } : { entropyWeight: true }),
      ...(o.offPolicyMask === undefined ? {} : { offPolicyMask: o.offPolicyMask }),
      ...(o.delta === undefined ? {} : { delta: o.delta }), ...(o.cispoMax === undefined ? {} : { cispoMax: o.cispoMax }), ...(o.sapoTemperature === undefined ? {} : { sapoTemperature: o.sapoTemperature })
    })
    const sampling = { maxNewTokens: o.sampling.maxNewTokens, temperature: o.sampling.temperature, stop: o.sampling.stop, ...(o.sampling.topK ? { topK: o.sampling.topK } : {}), ...(o.sampling.topP !== undefined ? { topP: o.sampling.topP } : {}) }
    // aggregation token is a mean over the update's completion tokens, sequence and constant one over its sequences:
    // micro-batches weighted by theirs, so microBatchSize changes memory only.
    const hyperAt = (lr: number) => ({ lr, clipGradNorm: o.maxGradNorm, ...(o.microBatchSize ? { microBatchSize: o.microBatchSize, accumulation: o.aggregation === "token" ? "tokens" as const : "sequences" as const } : {}) })
    // The schedule steps once per optimizer update (Hugging Face's Trainer, which TRL's GRPO and RLOO trainers are).
    const rolloutsPerStep = o.promptsPerStep * k
    const updatesPerStep = o.iterations * Math.ceil(rolloutsPerStep / (o.miniBatchSize ?? rolloutsPerStep))

    const saturated = saturationWatch(ctx.name, ctx.events, policy.info.vocabSize)
    const session = yield* openResumableSession(policy, { lora, seed: ctx.seed, gradientCheckpointing: o.gradientCheckpointing === true }, ctx, storedStep)
    // Resumed from the final checkpoint, no iteration runs: its stored outcome is the stage's.
    const restoredOutcome = storedStep(session.restored?.trainerState) >= o.steps ? finalOutcomeOf(session.restored?.trainerState) : undefined
    let last: Record<string, number> = { ...restoredOutcome?.last }
    const appended: Array<JsonRecord> = []
    let samples: Array<JsonRecord> = [...(restoredOutcome?.samples ?? [])]
    let control = storedControl(session.restored?.trainerState, o.entropyCoef)
    for (let step = storedStep(session.restored?.trainerState); step < o.steps; step++) {
      const fail = asTrainerStageError(ctx.name, step)
      let t = performance.now()
      const batch = promptIndices(prompts.length, step, o.promptsPerStep, ctx.seed).flatMap((i) => Array.from({ length: k }, () => prompts[i]!))
      const rollouts = yield* sampleWithStops(session, batch, sampling).pipe(Effect.mapError(fail))
      const sampleTime = seconds(t)

      t = performance.now()
      const rewards = yield* reward.reward(rollouts.map((r, i) => ({ record: batch[i]!.record, completion: r.text, finishReason: r.finishReason }))).pipe(Effect.mapError(fail))
      const raw = rewards.map((r) => r.value)
      yield* checkFiniteRewards(ctx.name, step, raw, (i) => String(batch[i]!.record["prompt"]))
      const sequenceAdvantages = algorithm === "grpo" ? grpoAdvantages(raw, k, { scale: rewardScaleOf(o.scaleRewards) }) : rlooAdvantages(raw, k)
      const rewardTime = seconds(t)

      t = performance.now()
      const current = yield* session.evaluate(rollouts, { entropy: true }).pipe(Effect.mapError(fail))
      const reference = o.beta > 0 ? yield* session.evaluate(rollouts, { reference: true }).pipe(Effect.mapError(fail)) : undefined
      const evaluateTime = seconds(t)

      t = performance.now()
      const oldLogprobs = current.map((h) => h.logprobs)
      const advantages = oldLogprobs.map((row, i) => row.map(() => sequenceAdvantages[i]!))
      // 0 on every token of a completion the token limit cut off (read only with maskTruncated).
      const keep = oldLogprobs.map((row, i) => row.map(() => (rollouts[i]!.finishReason === "length" ? 0 : 1)))
      const updates: Array<StepResult> = []
      const lrs: Array<number> = []
      const size = o.miniBatchSize ?? rollouts.length
      const order = o.groupMinibatches === true ? groupedMinibatches(rollouts.map((_, i) => Math.floor(i / k)), size, o.iterations, ctx.seed, step) : minibatches(rollouts.length, size, o.iterations, ctx.seed, step)
      for (const mb of order) {
        const pick = <T>(xs: ReadonlyArray<T>) => mb.map((i) => xs[i]!)
        // The minibatch's top-ρ tokens by the rollout policy's entropy, among those the loss counts.
        const valid = o.maskTruncated ? pick(keep) : pick(oldLogprobs).map((row) => row.map(() => 1))
        const feeds = {
          oldLogprobs: pick(oldLogprobs), advantages: pick(advantages), refLogprobs: pick(reference?.map((h) => h.logprobs) ?? oldLogprobs), keep: pick(keep),
          highEntropy: highEntropy ? highEntropyMask(pick(current.map((h) => h.entropy!)), valid, o.topEntropyQuantile) : valid,
          entropyWeight: adaptive === undefined ? valid : pick(oldLogprobs).map((row) => row.map(() => applyingCoef(control, adaptive.target)))
        }
        lrs.push(learningRate(o, step * updatesPerStep + updates.length, o.steps * updatesPerStep))
        updates.push(yield* session.step(objective, pick(rollouts), feeds, hyperAt(lrs.at(-1)!)).pipe(Effect.mapError(fail)))
        yield* saturated(updates.at(-1)!, lrs.at(-1)!)
        if (adaptive !== undefined) control = stepEntropyControl(control, updates.at(-1)!.metrics["kept_entropy"]!, adaptive)
      }
      const trainTime = seconds(t)

      const groupStds = Array.from({ length: raw.length / k }, (_, g) => std(raw.slice(g * k, (g + 1) * k)))
      // The objective's own metrics are means over the updates (the policy moving); `kl` and `entropy` are the rollouts' (before the updates).
      const { kl: updateKl, entropy: _entropy, ...updateMetrics } = meanStepMetrics(updates)
      last = {
        ...updateMetrics,
        ...(reference ? { kl: flatMean(klPerToken("k3", oldLogprobs, reference.map((h) => h.logprobs))), update_kl: updateKl! } : {}),
        entropy: flatMean(current.map((h) => h.entropy!)),
        lr: lrs[0]!,
        ...(adaptive === undefined ? {} : { entropy_coef: control.coef }),
        zero_std_groups: groupStds.filter((s) => s === 0).length / groupStds.length,
        completion_tokens_mean: flatMean([rollouts.map((r) => r.completion.length)]),
        truncated: rollouts.filter((r) => r.finishReason === "length").length / rollouts.length
      }
      const record = iterationRecord({ step, raw, scores: raw, rewards, scalars: last, time: { sample: sampleTime, reward: rewardTime, evaluate: evaluateTime, train: trainTime } })
      last = { reward_mean: record["reward_mean"] as number, ...last }
      if (step >= ctx.output.resumedCount) {
        yield* ctx.output.append([record])
        appended.push(record)
      }
      if (step === o.steps - 1) samples = rolloutSamples(step, batch.map((p) => String(p.record["prompt"] ?? "")), rollouts.map((r) => r.text), rewards)
      yield* emitMetrics(ctx.events, record, step)
      yield* ctx.events.progress(step + 1, o.steps)
      if ((step + 1) % o.checkpointEvery === 0 || step + 1 === o.steps) {
        yield* ctx.output.checkpoint()
        const state: JsonRecord = { step: step + 1, ...(adaptive === undefined ? {} : { entropyControl: { coef: control.coef, lastEntropy: control.lastEntropy } }) }
        yield* session.checkpoint(ctx.stateDir, step + 1 === o.steps ? withFinalOutcome(state, { last, samples }) : state).pipe(Effect.mapError(fail))
        // The curves so far too, so the report of a run killed later shows the iterations done.
        yield* writeIterationCurves(ctx, appended)
      }
    }
    yield* session.exportAdapter(join(ctx.dir, "adapter")).pipe(Effect.mapError(asTrainerStageError(ctx.name)))
    yield* writeIterationCurves(ctx, appended)
    return { metrics: { steps: o.steps, ...last }, ...(samples.length === 0 ? {} : { data: { report: { samples } } }) }
  }).pipe(Effect.mapError(asTrainerStageError(ctx.name)))

/** The trainer stage component of one algorithm (its options Schema carries that algorithm's defaults). */
export const groupTrainerStage = (algorithm: GroupAlgorithm, options: Schema.Codec<GroupOptions, any>, description: string) =>
  defineStage({
    role: "trainer",
    description,
    deterministic: true,
    options,
    inputs: { prompts: { description: "prompt records with a `prompt` string and optional `stop` list (e.g. self-instruct/rl-prompts); or use the `path` option", optional: true } },
    uses: { policy: PolicyModel, reward: Reward },
    run: run(algorithm)
  })

/** GRPO (Shao et al. 2024). */
export const grpoStage = groupTrainerStage("grpo", GrpoOptions, "GRPO: k samples per prompt, group-standardised advantages, clipped surrogate + β·k3 KL to the adapter-off reference, no value head; resumable; exports a PEFT adapter.")
/** RLOO (Ahmadian et al. 2024). */
export const rlooStage = groupTrainerStage("rloo", RlooOptions, "RLOO: k samples per prompt, leave-one-out baseline, clipped surrogate + β·k3 KL to the adapter-off reference, no value head; resumable; exports a PEFT adapter.")
