/**
 * `evaluate` and `step` of the table policy: lay the batch out, run the
 * (cached) programs on the float64 interpreter, average micro-batch
 * gradients, then one clipped AdamW update — or none when anything is not finite.
 */
import { Effect } from "effect"
import { interpret, stepInputNames, type Program, type TrainStepProgram } from "@refine-af/tensor"
import {
  checkBatch,
  checkFeeds,
  checkFiniteHeads,
  completionLength,
  NON_FINITE_UPDATE_FIX,
  PolicyError,
  type EvaluateOptions,
  type Heads,
  type Objective,
  type ObjectiveFeeds,
  type OptimizerConfig,
  type StepHyper,
  type StepResult,
  type TokenSequence,
  microBatchShares
} from "@refine-af/training"
import { evaluateProgram, gradientProgram, inputNames, paramNames, updateProgram, type TableShape } from "./table-program.ts"
import { layout, placeRows, takeRow, type TableWeights } from "./table-weights.ts"

export interface StepContext {
  readonly weights: TableWeights
  readonly contextLength: number
  readonly valueHead: boolean
  readonly dropout: number
  readonly optimizer: OptimizerConfig
}

const cache = new Map<string, unknown>()
const cached = <T>(key: string, make: () => T): T => {
  if (!cache.has(key)) cache.set(key, make())
  return cache.get(key) as T
}

const shapeOf = (w: TableWeights, batch: number, positions: number): TableShape => ({ vocab: w.vocab, rank: w.rank, scale: w.scale, batch, positions })
const shapeKey = (s: TableShape) => `${s.vocab}x${s.rank}x${s.scale}|${s.batch}x${s.positions}`

const baseFeeds = (w: TableWeights, reference: boolean) => {
  const feeds: Record<string, Float64Array> = { [paramNames.table]: w.table }
  for (const [name, value] of w.params) feeds[name] = reference && name === paramNames.b ? new Float64Array(value.length) : value
  return feeds
}

export const evaluate = (ctx: StepContext, batch: ReadonlyArray<TokenSequence>, want: EvaluateOptions = {}): Effect.Effect<ReadonlyArray<Heads>, PolicyError> =>
  Effect.gen(function* () {
    yield* checkBatch(batch, ctx.contextLength)
    if (want.values && !ctx.valueHead) return yield* new PolicyError({ reason: "InvalidRequest", message: "evaluate asked for values, but the session has no value head", fix: "open the session with valueHead: true" })
    const lay = layout(batch)
    const shape = shapeOf(ctx.weights, batch.length, lay.positions)
    const flags = { values: want.values === true, entropy: want.entropy === true }
    const program = cached(`eval|${shapeKey(shape)}|${flags.values}|${flags.entropy}`, () => evaluateProgram(shape, flags))
    const out = interpret(program, { ...baseFeeds(ctx.weights, want.reference === true), [inputNames.prev]: lay.prev, [inputNames.target]: lay.target, [inputNames.mask]: lay.mask })
    const rows: ReadonlyArray<Heads> = batch.map((s, b) => {
      const n = completionLength(s)
      const row = (name: string) => takeRow(out[name]!.data, b, lay.positions, n)
      return { logprobs: row("logprobs"), ...(flags.entropy ? { entropy: row("entropy") } : {}), ...(flags.values ? { values: row("values") } : {}) }
    })
    yield* checkFiniteHeads(rows, want.reference === true)
    return rows
  })

const chunks = <T>(items: ReadonlyArray<T>, size: number): Array<ReadonlyArray<T>> => {
  const out: Array<ReadonlyArray<T>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export const step = <F extends string>(ctx: StepContext, objective: Objective<F>, batch: ReadonlyArray<TokenSequence>, feeds: ObjectiveFeeds<F>, hyper: StepHyper): Effect.Effect<StepResult, PolicyError> =>
  Effect.gen(function* () {
    const w = ctx.weights
    yield* checkBatch(batch, ctx.contextLength)
    yield* checkFeeds(objective, batch, feeds, ctx.valueHead ? ["values", "entropy"] : ["entropy"])
    const size = hyper.microBatchSize ?? batch.length
    if (!Number.isInteger(size) || size < 1) return yield* new PolicyError({ reason: "InvalidRequest", message: `microBatchSize ${size} must be a positive integer`, fix: "pass microBatchSize ≥ 1 or leave it out" })
    const rngBefore = w.rng.state()
    const sums = new Map<string, Float64Array>()
    const metricSums: Record<string, number> = {}
    let lossSum = 0
    let tokens = 0
    let trainable: ReadonlyArray<string> = []
    const parts = chunks(batch.map((s, i) => ({ s, i })), size)
    // Each micro-batch's weight × n (the sums are divided by n below): 1 (mean), or n × its share of the completion tokens or sequences.
    const n = parts.length
    const shares = n > 1 && hyper.accumulation !== undefined && hyper.accumulation !== "mean" ? microBatchShares(parts.map((part) => part.map((p) => p.s)), hyper.accumulation).map((share) => share * n) : parts.map(() => 1)
    for (const [index, part] of parts.entries()) {
      const share = shares[index]!
      const lay = layout(part.map((p) => p.s))
      tokens += lay.tokens
      const shape = shapeOf(w, part.length, lay.positions)
      const dropout = ctx.dropout > 0
      const built = cached(`grad|${objective.id}|${shapeKey(shape)}|${dropout}`, () => gradientProgram(objective as Objective<string>, shape, dropout))
      trainable = built.trainable
      const run: Record<string, Float64Array> = { ...baseFeeds(w, false), [inputNames.prev]: lay.prev, [inputNames.target]: lay.target, [inputNames.mask]: lay.mask }
      for (const name of objective.feeds) run[inputNames.feed(name)] = placeRows(part.map((p) => (feeds as Record<string, ReadonlyArray<ReadonlyArray<number>>>)[name]![p.i]!), lay.positions)
      if (dropout) run[inputNames.dropout] = Float64Array.from({ length: part.length * lay.positions }, () => (w.rng.next() < ctx.dropout ? 0 : 1 / (1 - ctx.dropout)))
      const out = interpret(built.program as Program, run)
      lossSum += share * out.loss!.data[0]!
      for (const [name, value] of Object.entries(out)) if (name.startsWith("metric/")) metricSums[name.slice(7)] = (metricSums[name.slice(7)] ?? 0) + share * value.data[0]!
      for (const name of trainable) {
        const g = out[`grad/${name}`]!.data
        const sum = sums.get(name) ?? new Float64Array(g.length)
        for (let i = 0; i < g.length; i++) sum[i] = sum[i]! + share * g[i]!
        sums.set(name, sum)
      }
    }
    const loss = lossSum / n
    const params = trainable.map((name) => ({ name, shape: [...(name === paramNames.valueBias ? [] : name === paramNames.value ? [w.vocab] : name === paramNames.a ? [w.rank, w.vocab] : [w.vocab, w.rank])] }))
    const update = cached(`update|${trainable.join(",")}|${shapeKey(shapeOf(w, 0, 0))}|${hyper.clipGradNorm}|${JSON.stringify(ctx.optimizer)}`, () => updateProgram(params, hyper.clipGradNorm, ctx.optimizer)) as TrainStepProgram
    const run: Record<string, Float64Array | ArrayLike<number>> = { [stepInputNames.lr]: [hyper.lr], [stepInputNames.step]: [w.step + 1] }
    for (const { name } of params) {
      run[name] = w.params.get(name)!
      run[`accum/${name}`] = sums.get(name)!.map((x) => x / n)
    }
    for (const binding of update.carry) if (binding.init === "zeros") run[binding.input] = w.moments.get(binding.input) ?? new Float64Array(binding.shape.reduce((a, b) => a * b, 1))
    const out = interpret(update.program, run)
    const gradNorm = out.grad_norm!.data[0]!
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      w.rng.restore(rngBefore)
      return yield* new PolicyError({ reason: "NonFinite", message: `objective ${objective.id}: loss ${loss}, gradient norm ${gradNorm} at update ${w.step + 1}; the update was not applied`, fix: NON_FINITE_UPDATE_FIX })
    }
    for (const binding of update.carry) {
      const next = Float64Array.from(out[binding.output]!.data)
      if (binding.init === "parameter") w.params.set(binding.input, next)
      else w.moments.set(binding.input, next)
    }
    w.step += 1
    const metrics = Object.fromEntries(Object.entries(metricSums).map(([k, v]) => [k, v / n]))
    return { loss, gradNorm, metrics, tokens, step: w.step }
  })
