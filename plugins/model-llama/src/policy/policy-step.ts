/**
 * `step` and `evaluate` of a Llama policy session. A step with one
 * micro-batch runs ONE program (forward + objective + backward + clipping +
 * AdamW); with several, an accumulate program per micro-batch and one apply
 * program. A non-finite loss or gradient norm keeps the old state.
 */
import { accumulateWeightInput, applyAccumulated, stepInputNames, trainableSignatures, type BackendError, type BackendFeed, type DeviceTensor, type Executable, type HostTensor, type Program } from "@refine-af/tensor"
import { checkBatch, checkFeeds, checkFiniteHeads, completionLength, NON_FINITE_UPDATE_FIX, PolicyError, type EvaluateOptions, type Heads, type Objective, type ObjectiveFeeds, type OptimizerConfig, type StepHyper, type StepResult, type TokenSequence, microBatchShares } from "@refine-af/training"
import { Effect } from "effect"
import { loraDropoutInput, type ProgramLora } from "@refine-af/models"
import type { LlamaRuntime } from "../model/runtime.ts"
import { placeFeed, policyLayout, readRow, type PolicyLayout } from "./policy-layout.ts"
import { adamwOf, NO_CLIP, policyAccumulateProgram, policyEvaluateProgram, policyNames, policyTrainProgram, shapeKey, type PolicyTrainProgram } from "./policy-program.ts"
import { releaseFeed, zeros, type PolicyState } from "./policy-state.ts"

/** Compiles programs once per key (frozen weights baked in), shared by every session of a model. */
export type ProgramCache = <P extends { readonly program: Program }>(key: string, build: () => P, keepOnDevice: (built: P) => ReadonlyArray<string>) => Effect.Effect<{ built: P; exe: Executable }, BackendError>

export interface StepContext {
  readonly runtime: LlamaRuntime
  readonly compile: ProgramCache
  readonly state: PolicyState
  readonly lora: ProgramLora
  readonly loraKey: string
  readonly dropout: number
  readonly valueHead: boolean
  readonly optimizer: OptimizerConfig
  readonly contextLength: number
  /** Training programs recompute each decoder layer in the backward pass (gradient checkpointing). */
  readonly checkpointLayers: boolean
  /** Heads on the completions' window (`fit`) or on every position (`full`). */
  readonly headWindow: "fit" | "full"
  /** Rows completing the same prompt share one pass of it through the decoder where that saves work (`policy-layout.ts`). */
  readonly sharePrompts: boolean
}

const backendError = (e: { readonly message: string }) => new PolicyError({ reason: "Backend", message: `the compute backend failed: ${e.message}`, fix: "check the backend resource (provider, memory); rerun with provider: cpu to rule out the accelerator" })
const scalar = (value: number): HostTensor => ({ dtype: "float32", shape: [], data: Float32Array.of(value) })
const first = (ctx: StepContext, t: DeviceTensor) => Effect.map(ctx.runtime.backend.download(t), (h) => (h.data as Float32Array)[0]!)

export const evaluate = (ctx: StepContext, batch: ReadonlyArray<TokenSequence>, want: EvaluateOptions = {}): Effect.Effect<ReadonlyArray<Heads>, PolicyError> =>
  Effect.gen(function* () {
    yield* checkBatch(batch, ctx.contextLength)
    if (want.values && !ctx.valueHead) return yield* new PolicyError({ reason: "InvalidRequest", message: "evaluate asked for values, but the session has no value head", fix: "open the session with valueHead: true" })
    const layout = policyLayout(ctx.runtime, batch, { window: ctx.headWindow, sharePrompts: ctx.sharePrompts })
    const heads = { values: want.values === true, entropy: want.entropy === true }
    const lora = want.reference ? undefined : ctx.lora
    const key = `eval|${shapeKey(layout.shape)}|${want.reference ? "base" : ctx.loraKey}|${heads.values}|${heads.entropy}`
    const { exe } = yield* ctx.compile(key, () => ({ program: policyEvaluateProgram(ctx.runtime.config, layout.shape, lora, heads) }), () => [])
    const feeds: Record<string, BackendFeed> = { ...layout.feeds }
    for (const [name, value] of ctx.state.params) {
      const isValue = name === policyNames.valueWeight || name === policyNames.valueBias
      if ((isValue && heads.values) || (!isValue && lora !== undefined)) feeds[name] = value
    }
    const out = yield* ctx.runtime.run(exe, feeds)
    const read = (name: string) => Effect.map(ctx.runtime.backend.download(out[name]!), (h) => h.data as Float32Array)
    const logprobs = yield* read("logprobs")
    const entropy = heads.entropy ? yield* read("entropy") : undefined
    const values = heads.values ? yield* read("values") : undefined
    for (const t of Object.values(out)) yield* Effect.ignore(ctx.runtime.backend.release(t))
    const rows: ReadonlyArray<Heads> = batch.map((s, i) => {
      const n = completionLength(s)
      return {
        logprobs: readRow(layout, logprobs, i, n),
        ...(entropy ? { entropy: readRow(layout, entropy, i, n) } : {}),
        ...(values ? { values: readRow(layout, values, i, n) } : {})
      }
    })
    yield* checkFiniteHeads(rows, want.reference === true)
    return rows
  }).pipe(Effect.catchTags({ BackendCompileError: (e) => Effect.fail(backendError(e)), BackendFeedError: (e) => Effect.fail(backendError(e)), BackendRunError: (e) => Effect.fail(backendError(e)), DeviceTensorError: (e) => Effect.fail(backendError(e)), UnsupportedOpError: (e) => Effect.fail(backendError(e)) }))

/** Inverted-dropout keep masks [batch, length, in] of every adapted module, from the session's stream. */
const dropoutMasks = (ctx: StepContext, layout: PolicyLayout): Record<string, HostTensor> => {
  const p = ctx.dropout
  const masks: Record<string, HostTensor> = {}
  for (const pair of ctx.state.adapter.pairs.values()) {
    const data = new Float32Array(layout.shape.batch * layout.shape.length * pair.inFeatures)
    for (let i = 0; i < data.length; i++) data[i] = ctx.state.rng.next() < p ? 0 : 1 / (1 - p)
    masks[loraDropoutInput(pair.module)] = { dtype: "float32", shape: [layout.shape.batch, layout.shape.length, pair.inFeatures], data }
  }
  return masks
}

const batchFeeds = <F extends string>(ctx: StepContext, objective: Objective<F>, part: ReadonlyArray<{ s: TokenSequence; i: number }>, feeds: ObjectiveFeeds<F>) => {
  // LoRA dropout masks are drawn per row: a shared prompt would share one, so those programs keep every row's prompt.
  const sharePrompts = ctx.sharePrompts && ctx.dropout === 0
  const layout = policyLayout(ctx.runtime, part.map((p) => p.s), { window: ctx.headWindow, sharePrompts })
  const out: Record<string, BackendFeed> = { ...layout.feeds, ...(ctx.dropout > 0 ? dropoutMasks(ctx, layout) : {}) }
  for (const name of objective.feeds) out[policyNames.feed(name)] = placeFeed(layout, part.map((p) => (feeds as Record<string, ReadonlyArray<ReadonlyArray<number>>>)[name]![p.i]!))
  return { layout, feeds: out }
}

const stateFeed = (ctx: StepContext, binding: { readonly input: string; readonly init: string; readonly shape: ReadonlyArray<number> }): BackendFeed =>
  binding.init === "parameter" ? ctx.state.params.get(binding.input)! : ctx.state.moments.get(binding.input) ?? zeros(binding.shape)

export const step = <F extends string>(ctx: StepContext, objective: Objective<F>, batch: ReadonlyArray<TokenSequence>, feeds: ObjectiveFeeds<F>, hyper: StepHyper): Effect.Effect<StepResult, PolicyError> =>
  Effect.gen(function* () {
    yield* checkBatch(batch, ctx.contextLength)
    yield* checkFeeds(objective, batch, feeds, ctx.valueHead ? ["values", "entropy"] : ["entropy"])
    const size = hyper.microBatchSize ?? batch.length
    if (!Number.isInteger(size) || size < 1) return yield* new PolicyError({ reason: "InvalidRequest", message: `microBatchSize ${size} must be a positive integer`, fix: "pass microBatchSize ≥ 1 or leave it out" })
    const indexed = batch.map((s, i) => ({ s, i }))
    const parts: Array<typeof indexed> = []
    for (let i = 0; i < indexed.length; i += size) parts.push(indexed.slice(i, i + size))
    const rngBefore = ctx.state.rng.state()
    const { runtime } = ctx
    const dropoutKey = `${ctx.dropout > 0 ? "dropout" : ""}${ctx.checkpointLayers ? "|checkpointed" : ""}`
    // Training programs take LoRA dropout masks; evaluation and sampling never drop.
    const trainLora = ctx.dropout > 0 ? { ...ctx.lora, dropout: true } : ctx.lora
    const optimizerKey = JSON.stringify(ctx.optimizer)
    const clip = hyper.clipGradNorm ?? NO_CLIP
    const common = { [stepInputNames.lr]: scalar(hyper.lr), [stepInputNames.step]: scalar(ctx.state.step + 1) }
    let loss = 0
    let tokens = 0
    const metricSums: Record<string, number> = {}
    let result: { out: Record<string, DeviceTensor>; program: PolicyTrainProgram | { carry: PolicyTrainProgram["carry"] } }
    // Each micro-batch's share: 1/n (mean), or its share of the batch's completion tokens or sequences, as f · n so the apply program's ÷ n stays.
    const weighting = parts.length > 1 && hyper.accumulation !== undefined && hyper.accumulation !== "mean" ? microBatchShares(parts.map((part) => part.map((p) => p.s)), hyper.accumulation) : undefined
    let share = 1
    const addMetrics = function* (built: PolicyTrainProgram, out: Readonly<Record<string, DeviceTensor>>) {
      loss += share * (yield* first(ctx, out.loss!))
      for (const name of built.metrics) metricSums[name] = (metricSums[name] ?? 0) + share * (yield* first(ctx, out[`metric/${name}`]!))
    }
    if (parts.length === 1) {
      const { layout, feeds: run } = batchFeeds(ctx, objective, parts[0]!, feeds)
      tokens = layout.tokens
      const key = `train|${objective.id}|${shapeKey(layout.shape)}|${ctx.loraKey}${dropoutKey}|${clip}|${optimizerKey}`
      const { built, exe } = yield* ctx.compile(key, () => policyTrainProgram(runtime.config, layout.shape, trainLora, objective as Objective<string>, clip, ctx.optimizer, ctx.checkpointLayers), (b) => b.carry.map((c) => c.output))
      for (const binding of built.carry) run[binding.input] = stateFeed(ctx, binding)
      const out = yield* runtime.run(exe, { ...run, ...common })
      yield* addMetrics(built, out)
      result = { out: { ...out }, program: built }
    } else {
      let accum: Record<string, BackendFeed> = {}
      let signatures: ReturnType<typeof trainableSignatures> = []
      for (const [index, part] of parts.entries()) {
        const { layout, feeds: run } = batchFeeds(ctx, objective, part, feeds)
        tokens += layout.tokens
        share = weighting === undefined ? 1 : weighting[index]! * parts.length
        const weighted = weighting !== undefined
        const key = `accum|${objective.id}|${shapeKey(layout.shape)}|${ctx.loraKey}${dropoutKey}${weighted ? "|weighted" : ""}`
        const { built, exe } = yield* ctx.compile(key, () => policyAccumulateProgram(runtime.config, layout.shape, trainLora, objective as Objective<string>, ctx.checkpointLayers, weighted), (b) => b.carry.map((c) => c.output))
        signatures = trainableSignatures(built.program)
        for (const sig of signatures) run[sig.name] = ctx.state.params.get(sig.name)!
        for (const binding of built.carry) run[binding.input] = accum[binding.input] ?? zeros(binding.shape)
        if (weighted) run[accumulateWeightInput] = scalar(share)
        const out = yield* runtime.run(exe, run)
        yield* addMetrics(built, out)
        for (const old of Object.values(accum)) yield* releaseFeed(runtime.backend, old)
        accum = Object.fromEntries(built.carry.map((c) => [c.input, out[c.output]!]))
      }
      const key = `apply|${signatures.map((s) => s.name).join(",")}|${parts.length}|${clip}|${optimizerKey}`
      const { built, exe } = yield* ctx.compile(key, () => applyAccumulated(signatures, parts.length, { optimizer: adamwOf(ctx.optimizer), clipGradNorm: clip }), (b) => b.carry.map((c) => c.output))
      const run: Record<string, BackendFeed> = { ...accum, ...common }
      for (const binding of built.carry) run[binding.input] = stateFeed(ctx, binding)
      const out = yield* runtime.run(exe, run)
      for (const old of Object.values(accum)) yield* releaseFeed(runtime.backend, old)
      result = { out: { ...out }, program: built }
    }
    const n = parts.length
    loss /= n
    const gradNorm = yield* first(ctx, result.out.grad_norm!)
    const carry = result.program.carry
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      for (const binding of carry) yield* releaseFeed(runtime.backend, result.out[binding.output])
      ctx.state.rng.restore(rngBefore)
      return yield* new PolicyError({ reason: "NonFinite", message: `objective ${objective.id}: loss ${loss}, gradient norm ${gradNorm} at update ${ctx.state.step + 1}; the update was not applied`, fix: NON_FINITE_UPDATE_FIX })
    }
    for (const binding of carry) {
      const map = binding.init === "parameter" ? ctx.state.params : ctx.state.moments
      yield* releaseFeed(runtime.backend, map.get(binding.input))
      map.set(binding.input, result.out[binding.output]!)
    }
    ctx.state.step += 1
    return { loss, gradNorm, tokens, step: ctx.state.step, metrics: Object.fromEntries(Object.entries(metricSums).map(([k, v]) => [k, v / n])) }
  }).pipe(Effect.catchTags({ BackendCompileError: (e) => Effect.fail(backendError(e)), BackendFeedError: (e) => Effect.fail(backendError(e)), BackendRunError: (e) => Effect.fail(backendError(e)), DeviceTensorError: (e) => Effect.fail(backendError(e)), UnsupportedOpError: (e) => Effect.fail(backendError(e)) }))
