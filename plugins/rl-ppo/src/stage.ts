/**
 * `ppo/train` — PPO from automated feedback, classic RLHF style (Ziegler et al.
 * 2019; TRL's classic `PPOTrainer`): policy = base + LoRA, reference = the
 * adapter switched off, a value head; per-token KL-shaped rewards, GAE,
 * advantage whitening, clipped surrogate + clipped value loss, PPO epochs ×
 * minibatches, a fixed or adaptive KL controller. One record of metrics per
 * iteration; resumable checkpoints in `ctx.stateDir`; the final adapter as a
 * PEFT folder in `<stage dir>/adapter`. For the run report: `curves.jsonl`
 * (reward, KL, loss, entropy per iteration) and, in the summary's
 * `data.report`, three rollouts of the last iteration with their reward parts.
 *
 * @example
 * ```yaml
 * ppo: { _component_: ppo/train, prompts: rl_prompts, policy: policy, reward: reward, steps: 50, batchSize: 16, miniBatchSize: 4 }
 * ```
 */
import { join } from "node:path"
import { Effect } from "effect"
import { defineStage, Reward, type JsonRecord, type StageContext } from "@refine-af/core"
import {
  checkFiniteRewards, checkLoraTargets, encodePrompts, loadPromptRecords, explainedVariance, flatMean, gae, groupedMinibatches, klShapedRewards, loraConfigFrom, meanSequenceKl, minibatches,
  learningRate, PolicyModel, ppoObjective, promptIndices, sampleWithStops, scaleScores, updateKlCoefficient, whiten, type KlController, type StepResult,
  asTrainerStageError, emitMetrics, finalOutcomeOf, iterationRecord, meanStepMetrics, openResumableSession, rolloutSamples, saturationWatch, withFinalOutcome, writeIterationCurves
} from "@refine-af/training"
import { PpoOptions } from "./options.ts"
import { decodeState, encodeState, freshState } from "./state.ts"

type Uses = { readonly policy: PolicyModel["Service"]; readonly reward: Reward["Service"] }

const seconds = (from: number) => (performance.now() - from) / 1000

const run = (ctx: StageContext<PpoOptions, Uses>) =>
  Effect.gen(function* () {
    const o = ctx.options
    const { policy, reward } = ctx.uses
    const lora = loraConfigFrom(o.lora, policy.info)
    yield* checkLoraTargets(ctx.name, policy.info, lora)
    const prompts = yield* encodePrompts(ctx.name, policy, yield* loadPromptRecords(ctx.name, ctx.inputs["prompts"], o.path), o.sampling.maxNewTokens)
    const objective = ppoObjective({ clip: o.clip, clipValue: o.clipValue, valueCoef: o.valueCoef, entropyCoef: o.entropyCoef, ratioThreshold: o.ratioThreshold })
    const controller: KlController = o.kl.controller === "adaptive" ? { kind: "adaptive", initial: o.kl.initial, target: o.kl.target, horizon: o.kl.horizon } : { kind: "fixed", initial: o.kl.initial }
    const sampling = { maxNewTokens: o.sampling.maxNewTokens, temperature: o.sampling.temperature, stop: o.sampling.stop, ...(o.sampling.topK ? { topK: o.sampling.topK } : {}), ...(o.sampling.topP !== undefined ? { topP: o.sampling.topP } : {}) }
    const hyperAt = (lr: number) => ({ lr, ...(o.maxGradNorm ? { clipGradNorm: o.maxGradNorm } : {}), ...(o.microBatchSize ? { microBatchSize: o.microBatchSize } : {}) })

    const session = yield* openResumableSession(policy, { lora, valueHead: true, seed: ctx.seed, gradientCheckpointing: o.gradientCheckpointing === true }, ctx, (stored) => decodeState(stored)?.step ?? 0)
    let state = decodeState(session.restored?.trainerState) ?? freshState(o.kl.initial)
    const saturated = saturationWatch(ctx.name, ctx.events, policy.info.vocabSize)
    // Resumed from the final checkpoint, no iteration runs: its stored outcome is the stage's.
    const restoredOutcome = state.step >= o.steps ? finalOutcomeOf(session.restored?.trainerState) : undefined
    let last: Record<string, number> = { ...restoredOutcome?.last }
    const appended: Array<JsonRecord> = []
    let samples: Array<JsonRecord> = [...(restoredOutcome?.samples ?? [])]

    for (let step = state.step; step < o.steps; step++) {
      const fail = asTrainerStageError(ctx.name, step)
      let t = performance.now()
      const promptOf = promptIndices(prompts.length, step, o.batchSize, ctx.seed)
      const batch = promptOf.map((i) => prompts[i]!)
      const rollouts = yield* sampleWithStops(session, batch, sampling).pipe(Effect.mapError(fail))
      const sampleTime = seconds(t)

      t = performance.now()
      const rewards = yield* reward.reward(rollouts.map((r, i) => ({ record: batch[i]!.record, completion: r.text, finishReason: r.finishReason }))).pipe(Effect.mapError(fail))
      const raw = rewards.map((r) => r.value)
      yield* checkFiniteRewards(ctx.name, step, raw, (i) => String(batch[i]!.record["prompt"]))
      const { scores, moments } = scaleScores(raw, state.moments, o.scores)
      const rewardTime = seconds(t)

      t = performance.now()
      const current = yield* session.evaluate(rollouts, { values: true, entropy: true }).pipe(Effect.mapError(fail))
      const reference = yield* session.evaluate(rollouts, { reference: true }).pipe(Effect.mapError(fail))
      const evaluateTime = seconds(t)

      t = performance.now()
      const logprobs = current.map((h) => h.logprobs)
      const refLogprobs = reference.map((h) => h.logprobs)
      const values = current.map((h) => h.values!)
      const shaped = klShapedRewards(scores, logprobs, refLogprobs, state.klCoef, o.kl.estimator)
      const { advantages: rawAdvantages, returns } = gae(o.whitenRewards ? whiten(shaped, false) : shaped, values, { gamma: o.gamma, lambda: o.lambda })
      const advantages = whiten(rawAdvantages)
      // One scheduler step per iteration (TRL's classic PPOTrainer steps its scheduler once per `step`).
      const lr = learningRate(o, step, o.steps)
      const updates: Array<StepResult> = []
      const perEpoch = Math.ceil(rollouts.length / o.miniBatchSize)
      const order = o.groupMinibatches === true ? groupedMinibatches(promptOf, o.miniBatchSize, o.ppoEpochs, ctx.seed, step) : minibatches(rollouts.length, o.miniBatchSize, o.ppoEpochs, ctx.seed, step)
      for (const mb of order) {
        const pick = <T>(xs: ReadonlyArray<T>) => mb.map((i) => xs[i]!)
        const feeds = { oldLogprobs: pick(logprobs), oldValues: pick(values), advantages: pick(advantages), returns: pick(returns) }
        const update = yield* session.step(objective, pick(rollouts), feeds, hyperAt(lr)).pipe(Effect.mapError(fail))
        yield* saturated(update, lr)
        updates.push(update)
        // Early stopping (TRL `early_stopping`), at the epoch level as TRL: the epoch's last update's policy KL decides whether more epochs run.
        if (o.targetKl !== undefined && updates.length % perEpoch === 0 && (update.metrics["policy_kl"] ?? 0) > 1.5 * o.targetKl) break
      }
      const trainTime = seconds(t)

      const kl = meanSequenceKl(o.kl.estimator, logprobs, refLogprobs)
      const klCoef = updateKlCoefficient(controller, state.klCoef, kl, rollouts.length)
      // The objective's metrics are means over the updates; `kl` and `entropy` are the rollouts' (before the updates).
      const { entropy: _entropy, ...updateMetrics } = meanStepMetrics(updates)
      last = {
        ...updateMetrics,
        kl,
        kl_coef: state.klCoef,
        entropy: flatMean(current.map((h) => h.entropy!)),
        explained_variance: explainedVariance(values, returns),
        lr,
        updates: updates.length,
        advantages_mean: flatMean(rawAdvantages),
        returns_mean: flatMean(returns),
        completion_tokens_mean: flatMean([rollouts.map((r) => r.completion.length)])
      }
      const record = iterationRecord({ step, raw, scores, rewards, scalars: last, time: { sample: sampleTime, reward: rewardTime, evaluate: evaluateTime, train: trainTime } })
      last = { reward_mean: record["reward_mean"] as number, ...last }
      state = { step: step + 1, klCoef, moments }
      // Iterations already durable from an interrupted attempt are recomputed (to restore state) but not re-emitted.
      if (step >= ctx.output.resumedCount) {
        yield* ctx.output.append([record])
        appended.push(record)
      }
      if (step === o.steps - 1) samples = rolloutSamples(step, batch.map((p) => String(p.record["prompt"] ?? "")), rollouts.map((r) => r.text), rewards)
      yield* emitMetrics(ctx.events, record, step)
      yield* ctx.events.progress(step + 1, o.steps)
      if (state.step % o.checkpointEvery === 0 || state.step === o.steps) {
        yield* ctx.output.checkpoint() // records first, so a checkpoint never runs ahead of the durable records
        const stored = state.step === o.steps ? withFinalOutcome(encodeState(state) as JsonRecord, { last, samples }) : encodeState(state)
        yield* session.checkpoint(ctx.stateDir, stored).pipe(Effect.mapError(fail))
        // The curves so far too, so the report of a run killed later shows the iterations done.
        yield* writeIterationCurves(ctx, appended)
      }
    }
    yield* session.exportAdapter(join(ctx.dir, "adapter")).pipe(Effect.mapError(asTrainerStageError(ctx.name)))
    yield* writeIterationCurves(ctx, appended)
    return { metrics: { steps: o.steps, ...last }, ...(samples.length === 0 ? {} : { data: { report: { samples } } }) }
  }).pipe(Effect.mapError(asTrainerStageError(ctx.name)))

/** The PPO trainer stage component. */
export const ppoTrainStage = defineStage({
  role: "trainer",
  description:
    "PPO from automated feedback (TRL classic PPO semantics): LoRA policy + value head, KL-shaped rewards to the adapter-off reference, GAE, whitening, clipped losses, adaptive KL; per-iteration metrics; resumable; exports a PEFT adapter.",
  deterministic: true,
  options: PpoOptions,
  inputs: { prompts: { description: "prompt records with a `prompt` string and optional `stop` list (e.g. self-instruct/rl-prompts); or use the `path` option", optional: true } },
  uses: { policy: PolicyModel, reward: Reward },
  run
})
