/**
 * Whole programs from the trunk and its heads: the fixed head set of the
 * generation / scoring / SFT step programs (`buildStepGraph`), and any
 * combination of heads in one forward (`buildHeadsGraph`) — what RL training
 * evaluates: logprobs, entropy and values of one batch in one run.
 *
 * @example
 * ```ts
 * import { buildHeadsGraph } from "@refine-af/models"
 * declare const config: import("@refine-af/models").LlamaConfig
 * const graph = buildHeadsGraph(config, { batch: 4, length: 64 }, { logprobs: true, entropy: true, values: true })
 * // outputs: logprobs [4, 64], entropy [4, 64], values [4, 64]; inputs add `targets`
 * ```
 */
import type { Graph, Tensor } from "@refine-af/tensor"
import type { LlamaConfig } from "../config/llama-config.ts"
import { chunkedTokenStats, lastLogitStats, lastPositions, lmLogits, maskedCrossEntropy, maskedMeanNll, sequenceScore, targetLogprobs, tokenEntropy, valueHead } from "./heads.ts"
import { llamaTrunk, type CacheUpdate, type ProgramLora, type StepShape, type TrunkOptions } from "./trunk.ts"

/** What a step program returns besides the cache. */
export type StepHead =
  /**
   * `logits` [batch, vocab] of the last position, their `logsumexp`, `max_logit`
   * and `argmax` [batch] (generation; a greedy step fetches the last three only).
   */
  | "last-logits"
  /** `logits` [batch, length, vocab]. */
  | "all-logits"
  /** `logprobs` [batch, window]: log p(targets[b, i] | tokens ≤ i) on the last `shape.window` positions (default all), input `targets` int64 [batch, window]. */
  | "target-logprobs"
  /** `loss`: masked mean cross-entropy of `targets` under `loss_mask` [batch, length] float32. */
  | "loss"

/** The heads of {@link buildHeadsGraph}; each one chosen becomes an output of that name. */
export interface HeadSelection {
  /** `logits`: every position's, or the last one's. */
  readonly logits?: "all" | "last"
  /** `logprobs` [batch, length] of the `targets` input. */
  readonly logprobs?: boolean
  /** `entropy` [batch, length] of the next-token distribution. */
  readonly entropy?: boolean
  /** `values` [batch, length] from the value head (`v_head.summary.*`, trainable). */
  readonly values?: boolean
  /** `scores` [batch, labels] from `score.weight` at the last non-pad token. */
  readonly score?: { readonly labels: number; readonly padTokenId: number | null }
  /** `loss`: masked mean cross-entropy of `targets` under `loss_mask`. */
  readonly loss?: boolean
}

/** Output names of {@link buildHeadsGraph}. */
export const headOutputs = { logits: "logits", logprobs: "logprobs", entropy: "entropy", values: "values", scores: "scores", loss: "loss" } as const

/**
 * The trunk plus the selected heads in one program (no cache). Returns the
 * graph with outputs declared and the head tensors (e.g. to differentiate a
 * loss written on top of them).
 */
export const buildHeads = (config: LlamaConfig, shape: Omit<StepShape, "cache">, heads: HeadSelection, options: TrunkOptions = {}) => {
  const trunk = llamaTrunk(config, { ...shape, cache: 0 }, options)
  const out: Partial<Record<keyof typeof headOutputs, Tensor>> = {}
  const needsAll = heads.logprobs || heads.entropy || heads.loss || heads.logits === "all"
  const all = needsAll ? lmLogits(trunk, "all") : undefined
  if (heads.logits) out.logits = heads.logits === "all" ? all! : lmLogits(trunk, "last")
  if (heads.logprobs) out.logprobs = targetLogprobs(trunk, all!)
  if (heads.entropy) out.entropy = tokenEntropy(all!)
  if (heads.values) out.values = valueHead(trunk)
  if (heads.score) out.scores = sequenceScore(trunk, heads.score)
  if (heads.loss) out.loss = maskedCrossEntropy(trunk, all!)
  for (const [name, tensor] of Object.entries(out)) trunk.graph.output(name, tensor)
  return { graph: trunk.graph, trunk, outputs: out }
}

/** {@link buildHeads}' graph. */
export const buildHeadsGraph = (config: LlamaConfig, shape: Omit<StepShape, "cache">, heads: HeadSelection, options: TrunkOptions = {}): Graph =>
  buildHeads(config, shape, heads, options).graph

/**
 * The masked mean cross-entropy of `targets` (no output declared), for
 * training programs that differentiate it (LoRA parameters are the trainable ones).
 */
export const buildLossGraph = (config: LlamaConfig, shape: Omit<StepShape, "cache">, lora?: ProgramLora, options: Pick<TrunkOptions, "checkpointLayers"> = {}): { graph: Graph; loss: Tensor } => {
  const trunk = llamaTrunk(config, { ...shape, cache: 0 }, { ...(lora ? { lora } : {}), ...options })
  // Checkpointed layers: the LM head's logits chunk by chunk, recomputed in the backward pass, too.
  if (options.checkpointLayers) return { graph: trunk.graph, loss: maskedMeanNll(trunk, chunkedTokenStats(trunk, { logprobs: true, recompute: true }).logprobs!) }
  return { graph: trunk.graph, loss: maskedCrossEntropy(trunk, lmLogits(trunk, "all")) }
}

/** Builds a generation / scoring / SFT step program's graph (outputs declared; cache outputs, per `cacheUpdate`, when `shape.cache > 0`). */
export const buildStepGraph = (config: LlamaConfig, shape: StepShape, head: StepHead, lora?: ProgramLora, cacheUpdate: CacheUpdate = "slide"): Graph => {
  if (head === "loss") {
    const { graph, loss } = buildLossGraph(config, shape, lora)
    graph.output("loss", loss)
    return graph
  }
  const trunk = llamaTrunk(config, shape, { ...(lora ? { lora } : {}), cacheUpdate, ...(shape.prompts ? { sharedPrompt: shape.prompts } : {}) })
  if (head === "last-logits") {
    const logits = lmLogits(trunk, "last")
    const stats = lastLogitStats(logits)
    trunk.graph.output("logits", logits)
    trunk.graph.output("logsumexp", stats.logsumexp)
    trunk.graph.output("max_logit", stats.maxLogit)
    trunk.graph.output("argmax", stats.argmax)
  }
  else if (head === "all-logits") trunk.graph.output("logits", lmLogits(trunk, "all"))
  // Scoring: the logits of a chunk of positions at a time, on the window's positions.
  else trunk.graph.output("logprobs", chunkedTokenStats(lastPositions(trunk, shape.window ?? shape.length), { logprobs: true }).logprobs!)
  return trunk.graph
}
