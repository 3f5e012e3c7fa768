/**
 * Policy programs for one [batch, length] bucket over the decoder trunk:
 *
 * - evaluation: per-position `logprobs` of `targets`, and on request `entropy`
 *   and `values` (the value head: a linear map of the final hidden state to a
 *   scalar, TRL's `v_head.summary`);
 * - training: an `Objective`'s loss over those heads and its feeds, then
 *   backward + (clipping) + AdamW in the same program (`trainStep`), or per
 *   micro-batch gradient accumulation (`accumulateStep`) for `applyAccumulated`.
 *
 * Positions follow the left-padded layout of `policy-layout.ts`; the frozen
 * base weights are baked in as constants, the adapter (and value head) are
 * trainable parameters fed from the session's state.
 */
import { accumulateStep, adamw, eliminateDeadCode, trainStep, type Graph, type Program, type StateBinding, type Tensor } from "@refine-af/tensor"
import type { HeadTensors, Objective, OptimizerConfig } from "@refine-af/training"
import { chunkedTokenStats, headNames, lastPositions, llamaTrunk, lmLogits, targetLogprobs, tokenEntropy, valueHead, type LlamaConfig, type ProgramLora } from "@refine-af/models"

/** Names of the policy programs' own inputs and parameters (the value head keeps TRL's names, as `@refine-af/models` declares it). */
export const policyNames = {
  completionMask: "completion_mask",
  feed: (name: string) => `feed.${name}`,
  valueWeight: headNames.valueWeight,
  valueBias: headNames.valueBias
} as const

export interface PolicyShape {
  readonly batch: number
  readonly length: number
  /** The heads (logits, logprobs, entropy, values), the mask and the feeds cover the last `window` positions (≤ length). */
  readonly window: number
  /**
   * Shared prompts (`policy-layout.ts`): `count` distinct prompts of `length`
   * positions run once each; the rows are then only the completion part
   * (`length` = `window`). Absent: every row holds its whole sequence.
   */
  readonly prompts?: { readonly count: number; readonly length: number }
}

/** The part of a program cache key a policy shape decides. */
export const shapeKey = (shape: PolicyShape): string => `${shape.batch}x${shape.length}w${shape.window}${shape.prompts ? `p${shape.prompts.count}x${shape.prompts.length}` : ""}`

export interface HeadRequest {
  readonly values: boolean
  readonly entropy: boolean
}

/**
 * The trunk and the heads a policy program reads. `head`: `chunked` computes
 * the logits a chunk of positions at a time (evaluation: nothing kept for a
 * backward pass), `recomputed` is training with gradient checkpointing (each
 * decoder layer and each chunk a checkpoint segment), `whole` keeps
 * all-position logits (training without).
 */
const buildHeads = (config: LlamaConfig, shape: PolicyShape, lora: ProgramLora | undefined, want: HeadRequest, head: "whole" | "chunked" | "recomputed"): { g: Graph; heads: HeadTensors } => {
  const trunk = lastPositions(llamaTrunk(config, { batch: shape.batch, length: shape.length, cache: 0 }, { ...(lora === undefined ? {} : { lora }), checkpointLayers: head === "recomputed", ...(shape.prompts ? { sharedPrompt: shape.prompts } : {}) }), shape.window)
  const mask = trunk.input(policyNames.completionMask, "float32", [shape.batch, shape.window])
  let heads: { -readonly [K in keyof HeadTensors]: HeadTensors[K] }
  if (head !== "whole") {
    const stats = chunkedTokenStats(trunk, { logprobs: true, entropy: want.entropy, recompute: head === "recomputed" })
    heads = { logprobs: stats.logprobs!, mask, ...(stats.entropy ? { entropy: stats.entropy } : {}) }
  } else {
    const logits = lmLogits(trunk, "all")
    heads = { logprobs: targetLogprobs(trunk, logits), mask }
    if (want.entropy) heads.entropy = tokenEntropy(logits)
  }
  if (want.values) heads.values = valueHead(trunk)
  return { g: trunk.graph, heads }
}

/** Evaluation program: outputs `logprobs` (+ `entropy`, `values`). `lora` undefined = the base model. */
export const policyEvaluateProgram = (config: LlamaConfig, shape: PolicyShape, lora: ProgramLora | undefined, want: HeadRequest): Program => {
  const { g, heads } = buildHeads(config, shape, lora, want, "chunked")
  g.output("logprobs", heads.logprobs)
  if (heads.entropy) g.output("entropy", heads.entropy)
  if (heads.values) g.output("values", heads.values)
  return eliminateDeadCode(g.build())
}

/** A training program and what it carries between runs. */
export interface PolicyTrainProgram {
  readonly program: Program
  readonly carry: ReadonlyArray<StateBinding>
  /** Names of the objective's metric outputs (`metric/<name>`). */
  readonly metrics: ReadonlyArray<string>
}

/** Large enough never to clip, small enough to stay finite in float32: `grad_norm` is always reported. */
export const NO_CLIP = 1e30

const objectiveGraph = (config: LlamaConfig, shape: PolicyShape, lora: ProgramLora, objective: Objective<string>, checkpointLayers: boolean) => {
  const { g, heads } = buildHeads(config, shape, lora, { values: objective.heads.includes("values"), entropy: objective.heads.includes("entropy") }, checkpointLayers ? "recomputed" : "whole")
  const feeds: Record<string, Tensor> = {}
  for (const name of objective.feeds) feeds[name] = g.input(policyNames.feed(name), "float32", [shape.batch, shape.window])
  const loss = objective.loss(heads, feeds)
  const metrics = Object.entries(objective.metrics?.(heads, feeds) ?? {})
  for (const [name, value] of metrics) g.output(`metric/${name}`, value)
  return { loss, metrics: metrics.map(([name]) => name) }
}

/**
 * Forward + objective + backward + clipping + AdamW in one program.
 * `checkpointLayers`: recompute each decoder layer in the backward pass (gradient checkpointing).
 */
export const policyTrainProgram = (config: LlamaConfig, shape: PolicyShape, lora: ProgramLora, objective: Objective<string>, clipGradNorm: number | undefined, optimizer: OptimizerConfig, checkpointLayers = false): PolicyTrainProgram => {
  const { loss, metrics } = objectiveGraph(config, shape, lora, objective, checkpointLayers)
  const step = trainStep(loss, { optimizer: adamwOf(optimizer), clipGradNorm: clipGradNorm ?? NO_CLIP })
  return { ...step, metrics }
}

/** Forward + objective + backward, adding the gradients into `accum/<param>` (one micro-batch). */
export const policyAccumulateProgram = (config: LlamaConfig, shape: PolicyShape, lora: ProgramLora, objective: Objective<string>, checkpointLayers = false, weighted = false): PolicyTrainProgram => {
  const { loss, metrics } = objectiveGraph(config, shape, lora, objective, checkpointLayers)
  return { ...accumulateStep(loss, { weighted }), metrics }
}

/** The session's AdamW (torch defaults, weight decay 0 unless set). */
export const adamwOf = (optimizer: OptimizerConfig) =>
  adamw({ beta1: optimizer.beta1 ?? 0.9, beta2: optimizer.beta2 ?? 0.999, eps: optimizer.eps ?? 1e-8, weightDecay: optimizer.weightDecay ?? 0 })
