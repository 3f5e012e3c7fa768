/**
 * `sft/lora`: supervised fine-tuning of a LoRA adapter on Alpaca records,
 * read top to bottom: load and check the data, tokenize with the template,
 * hold out an eval set, then one AdamW update per planned batch (loss on the
 * response tokens only), a metrics record per step, a checkpoint every N
 * steps in the state folder (records made durable first, so a kill at any
 * point resumes exactly), and the PEFT adapter in the stage folder, with
 * `curves.jsonl` (loss, eval_loss, lr, grad_norm per step) for the run report.
 */
import * as nodePath from "node:path"
import { curvePointsOf, defineStage, resolveRecipePath, StageError, writeCurves, type JsonRecord } from "@refine-af/core"
import { loraConfigFrom, nllObjective, PolicyModel, saturationWatch, type PolicySession, type TokenSequence } from "@refine-af/training"
import { Effect } from "effect"
import { batchPlan, holdOut } from "./batches.ts"
import { checkRecord, fromRecords, readJsonl, responseEnd, toSequence } from "./dataset.ts"
import { SftDataError } from "./errors.ts"
import { resolveSftOptions, SftOptions } from "./options.ts"
import { learningRate } from "./schedule.ts"

/** Token-weighted mean negative log-likelihood of the responses. */
const heldOutLoss = (session: PolicySession, sequences: ReadonlyArray<TokenSequence>, batchSize: number) =>
  Effect.gen(function* () {
    let total = 0
    let count = 0
    for (let i = 0; i < sequences.length; i += batchSize) {
      for (const heads of yield* session.evaluate(sequences.slice(i, i + batchSize))) {
        for (const lp of heads.logprobs) total -= lp
        count += heads.logprobs.length
      }
    }
    return total / Math.max(1, count)
  })

export const sftStage = defineStage({
  role: "trainer",
  description: "Supervised fine-tuning of a LoRA adapter on Alpaca records (instruction, input, output); loss on the response only; writes adapter/ (PEFT) and one metrics record per step.",
  deterministic: true,
  options: SftOptions,
  inputs: { data: { description: "Alpaca records (instruction, input, output)", optional: true } },
  uses: { policy: PolicyModel },
  run: (ctx) =>
    Effect.gen(function* () {
      const o = resolveSftOptions(ctx.options)
      const policy = ctx.uses.policy
      const fail = (message: string, fix: string) => Effect.fail(new SftDataError({ message, fix }))
      if (ctx.inputs.data === undefined && ctx.options.path === undefined) return yield* fail("no training data", "connect a stage to the data input, or set path: to a JSONL file")
      const raws = [
        ...(ctx.inputs.data ? fromRecords(ctx.inputs.data.stage, yield* ctx.inputs.data.readAll()) : []),
        ...(ctx.options.path ? yield* readJsonl(resolveRecipePath(ctx, ctx.options.path)) : [])
      ]
      if (raws.length === 0) return yield* fail("the dataset is empty", "give the stage at least one record")
      const records = yield* Effect.forEach(raws, ({ raw, where }) => checkRecord(raw, where))
      const lora = loraConfigFrom(ctx.options.lora, policy.info)
      const unknown = lora.targets.filter((t) => !policy.info.loraTargets.includes(t))
      if (unknown.length > 0) return yield* fail(`option lora.targets: ${JSON.stringify(unknown)} are not modules of ${policy.info.id}`, `use some of ${policy.info.loraTargets.join(", ")}`)
      if (o.template === "chat" && !policy.info.hasChatTemplate) return yield* fail(`option template: chat, but ${policy.info.id} has no chat template`, "use template: alpaca or a custom { prompt } template")
      const end = yield* responseEnd(policy, o.template)
      const sequences = yield* Effect.forEach(records, (r, i) => toSequence(policy, o.template, r, raws[i]!.where, end))
      const { train, evaluation } = holdOut(sequences.length, o.evalFraction, ctx.seed)
      const evalSequences = evaluation.map((i) => sequences[i]!)
      const plan = batchPlan(train.map((i) => sequences[i]!.tokens.length), o.batchSize, o.epochs, ctx.seed)
      const total = Math.min(plan.length, o.maxSteps ?? plan.length)

      const session = yield* policy.session({ lora, seed: ctx.seed, optimizer: { weightDecay: o.weightDecay }, gradientCheckpointing: o.gradientCheckpointing, resumeFrom: ctx.stateDir })
      let last = { loss: Number.NaN, evalLoss: undefined as number | undefined }
      const saturated = saturationWatch(ctx.name, ctx.events, policy.info.vocabSize)
      const appended: Array<JsonRecord> = []
      for (let step = session.steps(); step < total; step++) {
        const batch = plan[step]!.map((i) => sequences[train[i]!]!)
        const lr = learningRate(o, step, total)
        const started = performance.now()
        // Micro-batches weighted by their response tokens: the batch's token mean, whatever micro_batch_size (Hugging Face Trainer's num_items_in_batch).
        const result = yield* session.step(nllObjective, batch, {}, { lr, clipGradNorm: o.clipGradNorm, ...(o.microBatchSize ? { microBatchSize: o.microBatchSize, accumulation: "tokens" as const } : {}) })
        const seconds = (performance.now() - started) / 1000
        yield* saturated(result, lr)
        const done = step + 1
        const evalLoss = evalSequences.length > 0 && (done % o.evalEvery === 0 || done === total) ? yield* heldOutLoss(session, evalSequences, o.batchSize) : undefined
        last = { loss: result.loss, evalLoss }
        // One record per step; steps already durable from an interrupted attempt are recomputed, not re-emitted.
        if (step >= ctx.output.resumedCount) {
          const record = { step: done, loss: result.loss, lr, grad_norm: result.gradNorm, tokens: result.tokens, tokens_per_second: result.tokens / Math.max(seconds, 1e-9), ...(evalLoss === undefined ? {} : { eval_loss: evalLoss }) }
          yield* ctx.output.append([record])
          appended.push(record)
        }
        yield* ctx.events.metric("loss", result.loss, done)
        if (evalLoss !== undefined) yield* ctx.events.metric("eval_loss", evalLoss, done)
        yield* ctx.events.progress(done, total)
        if (done % o.checkpointEvery === 0 && done < total) {
          yield* ctx.output.checkpoint() // records first: a checkpoint never gets ahead of its records
          yield* session.checkpoint(ctx.stateDir, { step: done })
          // The loss curve so far too, so the report of a run killed later shows the steps done.
          yield* writeCurves(ctx, curvePointsOf([...(yield* ctx.output.resumed()), ...appended], ["loss", "eval_loss", "lr", "grad_norm"]))
        }
      }
      yield* ctx.output.checkpoint()
      yield* session.exportAdapter(nodePath.join(ctx.dir, "adapter"))
      // The report's loss curve, from every step record (durable ones of an interrupted attempt too); timings stay out.
      yield* writeCurves(ctx, curvePointsOf([...(yield* ctx.output.resumed()), ...appended], ["loss", "eval_loss", "lr", "grad_norm"]))
      return { metrics: { steps: total, loss: last.loss, ...(last.evalLoss === undefined ? {} : { eval_loss: last.evalLoss }) }, data: { train: train.length, eval: evaluation.length } }
    }).pipe(
      Effect.catchTags({
        SftDataError: (e) => Effect.fail(new StageError({ stage: ctx.name, message: `${ctx.name}: ${e.message}`, fix: e.fix })),
        PolicyError: (e) =>
          Effect.fail(new StageError({ stage: ctx.name, message: `${ctx.name}: ${e.message}${e.reason === "NonFinite" ? ` (the last good checkpoint in ${ctx.stateDir} is kept)` : ""}`, ...(e.fix ? { fix: e.fix } : {}) }))
      })
    )
})
