/**
 * The table policy as tensor programs (float64, run on the reference
 * interpreter). Next-token logits depend on the previous token only:
 *
 *   logits[prev] = table[prev] + s · B · A[:, prev]      (table frozen; A [r, V], B [V, r] trainable)
 *   value[prev]  = value.weight[prev] + value.bias       (optional value head)
 *
 * which is a LoRA adapter on a V×V linear layer fed one-hot tokens, so it
 * trains like the real thing on a model small enough to interpret exactly.
 * Heads are laid out [batch, positions] with completion token k of row b at
 * column k (prev = the token before it).
 */
import {
  add,
  adamw,
  applyAccumulated,
  gather,
  gradients,
  Graph,
  matmul,
  mul,
  eliminateDeadCode,
  tokenEntropy,
  tokenLogProbs,
  transpose,
  type Program,
  type Tensor,
  type TrainStepProgram
} from "@refine-af/tensor"
import type { HeadTensors, Objective, OptimizerConfig } from "@refine-af/training"

/** Parameter names (PEFT-style for the adapter). */
export const paramNames = { table: "table.weight", a: "table.lora_A.weight", b: "table.lora_B.weight", value: "value.weight", valueBias: "value.bias" } as const
/** Run-time input names. */
export const inputNames = { prev: "prev", target: "target", mask: "mask", dropout: "lora_dropout", feed: (name: string) => `feed.${name}` } as const

export interface TableShape {
  readonly vocab: number
  readonly rank: number
  readonly scale: number
  readonly batch: number
  readonly positions: number
}

export interface HeadOptions {
  readonly values: boolean
  readonly entropy: boolean
  /** Input `lora_dropout` [batch, positions, 1]: inverted-dropout keep mask of the adapter branch. */
  readonly dropout: boolean
}

const buildHeads = (shape: TableShape, options: HeadOptions): { g: Graph; heads: HeadTensors } => {
  const { vocab: v, rank: r, batch: b, positions: t } = shape
  const g = new Graph()
  const prev = g.input(inputNames.prev, "int64", [b, t])
  const target = g.input(inputNames.target, "int64", [b, t])
  const mask = g.input(inputNames.mask, "float64", [b, t])
  const table = g.parameter(paramNames.table, "float64", [v, v], { trainable: false })
  const a = g.parameter(paramNames.a, "float64", [r, v])
  const bMatrix = g.parameter(paramNames.b, "float64", [v, r])
  let branch = gather(transpose(a), prev) // [b, t, r] = A · onehot(prev)
  if (options.dropout) branch = mul(branch, g.input(inputNames.dropout, "float64", [b, t, 1]))
  const logits = add(gather(table, prev), mul(matmul(branch, transpose(bMatrix)), shape.scale))
  const heads: { -readonly [K in keyof HeadTensors]: HeadTensors[K] } = { logprobs: tokenLogProbs(logits, target), mask }
  if (options.entropy) heads.entropy = tokenEntropy(logits)
  if (options.values) {
    const weight = g.parameter(paramNames.value, "float64", [v])
    const bias = g.parameter(paramNames.valueBias, "float64", [])
    heads.values = add(gather(weight, prev), bias)
  }
  return { g, heads }
}

/** Evaluation: outputs `logprobs`, and `entropy` / `values` when asked. */
export const evaluateProgram = (shape: TableShape, want: { values: boolean; entropy: boolean }): Program => {
  const { g, heads } = buildHeads(shape, { ...want, dropout: false })
  g.output("logprobs", heads.logprobs)
  if (heads.entropy) g.output("entropy", heads.entropy)
  if (heads.values) g.output("values", heads.values)
  return eliminateDeadCode(g.build())
}

/** One micro-batch's loss, metrics (`metric/<name>`) and gradients (`grad/<param>`) of every trainable parameter it uses. */
export const gradientProgram = (objective: Objective<string>, shape: TableShape, dropout: boolean): { program: Program; trainable: ReadonlyArray<string> } => {
  const { g, heads } = buildHeads(shape, { values: objective.heads.includes("values"), entropy: objective.heads.includes("entropy"), dropout })
  const feeds: Record<string, Tensor> = {}
  for (const name of objective.feeds) feeds[name] = g.input(inputNames.feed(name), "float64", [shape.batch, shape.positions])
  const loss = objective.loss(heads, feeds)
  g.output("loss", loss)
  for (const [name, value] of Object.entries(objective.metrics?.(heads, feeds) ?? {})) g.output(`metric/${name}`, value)
  const trainable = g.parameterList().filter((p) => p.trainable)
  const grads = gradients(loss, trainable.map((p) => g.tensor(p.id)))
  trainable.forEach((p, i) => g.output(`grad/${p.name}`, grads[i]!))
  return { program: eliminateDeadCode(g.build()), trainable: trainable.map((p) => p.name) }
}

/** The update from (averaged) gradients fed as `accum/<param>`: clipping (norm always reported) + AdamW. */
export const updateProgram = (params: ReadonlyArray<{ name: string; shape: ReadonlyArray<number> }>, clipGradNorm: number | undefined, optimizer: OptimizerConfig): TrainStepProgram =>
  applyAccumulated(
    params.map((p) => ({ name: p.name, dtype: "float64", shape: p.shape })),
    1,
    { optimizer: adamw({ beta1: optimizer.beta1 ?? 0.9, beta2: optimizer.beta2 ?? 0.999, eps: optimizer.eps ?? 1e-8, weightDecay: optimizer.weightDecay ?? 0 }), clipGradNorm: clipGradNorm ?? Number.POSITIVE_INFINITY }
  )
