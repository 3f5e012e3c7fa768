/**
 * The decoder as a tensor program for one shape bucket. One builder covers
 * every use:
 *
 * - no cache (`cache: 0`): a full forward — scoring, training, reference runs;
 * - with a cache of `cache` slots: the step reads `past_key.<l>` /
 *   `past_value.<l>` [batch, kvHeads, cache, headDim], attends over those slots
 *   plus the `length` new tokens, and returns `present_*` = the last `cache`
 *   slots of (past ++ new). The cache is a fixed-size window that slides left,
 *   so prefill (length = prompt bucket) and decode (length = 1) keep constant
 *   shapes and one compiled program serves every decode step.
 *
 * Positions and visibility are host inputs: `cos`/`sin` [batch, length, headDim]
 * (any rope scaling, per-row positions under left padding) and bool masks
 * [batch, 1, length, cache + length] (`mask` for full-attention layers,
 * `mask_window` for sliding-window layers). Parameters carry Hugging Face
 * names, so checkpoint tensors bind to them directly.
 */
import {
  add,
  applyLinear,
  applyRotary,
  concat,
  crossEntropy,
  embedding,
  Graph,
  linearParams,
  matmul,
  mul,
  repeatKv,
  reshape,
  rmsNorm,
  scaledDotProductAttention,
  silu,
  slice,
  tokenLogProbs,
  transpose,
  transposeLast2,
  type LinearParams,
  type Tensor
} from "@refine-af/tensor"
import type { LlamaConfig } from "@refine-af/models"
import type { LoraTarget } from "../peft/lora-config.ts"

/** Shape bucket of a step program. */
export interface StepShape {
  readonly batch: number
  /** New tokens per row in this run. */
  readonly length: number
  /** KV-cache slots (0: no cache inputs/outputs). */
  readonly cache: number
}

/** What the program returns besides the cache. */
export type StepHead =
  /** `logits` [batch, vocab] of the last position (generation). */
  | "last-logits"
  /** `logits` [batch, length, vocab]. */
  | "all-logits"
  /** `logprobs` [batch, length]: log p(targets[b, i] | tokens ≤ i), input `targets` int64. */
  | "target-logprobs"
  /** `loss`: masked mean cross-entropy of `targets` under `loss_mask` [batch, length] float32. */
  | "loss"

/** LoRA adapters inside the program (trainable parameters named `<module>.lora_A.weight` / `.lora_B.weight`). */
export interface ProgramLora {
  readonly rank: number
  readonly alpha: number
  readonly targets: ReadonlyArray<LoraTarget>
  /** Scale override (rsLoRA); default alpha / rank. */
  readonly scale?: number
  /**
   * Training with LoRA dropout: every adapted projection takes an input
   * `lora_dropout.<module>` [batch, length, in] (keep mask already divided by
   * 1 − p) that multiplies the adapter branch's input, as PEFT's lora_dropout does.
   */
  readonly dropout?: boolean
}

/** Name of the dropout-mask input of an adapted module. */
export const loraDropoutInput = (module: string): string => `lora_dropout.${module}`

/** Names of the program's run-time inputs and outputs. */
export const stepNames = {
  inputIds: "input_ids",
  cos: "cos",
  sin: "sin",
  mask: "mask",
  maskWindow: "mask_window",
  targets: "targets",
  lossMask: "loss_mask",
  pastKey: (layer: number) => `past_key.${layer}`,
  pastValue: (layer: number) => `past_value.${layer}`,
  presentKey: (layer: number) => `present_key.${layer}`,
  presentValue: (layer: number) => `present_value.${layer}`
} as const

/** True when some layer uses a sliding window (the program then takes `mask_window`). */
export const usesWindowMask = (config: LlamaConfig): boolean => config.slidingWindowPerLayer.some((w) => w !== null)

/** Applies one projection `x·Wᵀ (+ b)`, plus its LoRA branch `scale·((x ⊙ dropout)·Aᵀ)·Bᵀ` when the module is adapted. */
const projection = (x: Tensor, layer: number, target: LoraTarget, outFeatures: number, bias: boolean, lora: ProgramLora | undefined): Tensor => {
  const g = x.graph
  const inFeatures = x.shape[x.rank - 1]!
  const block = target === "gate_proj" || target === "up_proj" || target === "down_proj" ? "mlp" : "self_attn"
  const module = `model.layers.${layer}.${block}.${target}`
  const adapted = lora !== undefined && lora.targets.includes(target)
  const params: LinearParams = linearParams(g, module, inFeatures, outFeatures, {
    dtype: "float32",
    bias,
    trainable: false,
    ...(adapted ? { lora: { rank: lora.rank, alpha: lora.alpha } } : {})
  })
  if (!params.lora || !lora) return applyLinear(x, params)
  const scale = lora.scale ?? params.lora.scale
  const branchInput = lora.dropout ? mul(x, g.input(loraDropoutInput(module), "float32", x.shape)) : x
  const base = applyLinear(x, { weight: params.weight, ...(params.bias ? { bias: params.bias } : {}) })
  return add(base, mul(matmul(matmul(branchInput, transposeLast2(params.lora.a)), transposeLast2(params.lora.b)), scale))
}

/** The decoder trunk (exported for policy programs): final hidden states [batch, length, hidden] and the LM head weight; cache outputs declared. */
export const buildTrunk = (config: LlamaConfig, shape: StepShape, lora: ProgramLora | undefined) => {
  const { batch: b, length: s, cache: c } = shape
  const { hiddenSize: hidden, numHeads, numKeyValueHeads: kvHeads, headDim } = config
  const g = new Graph()
  const ids = g.input(stepNames.inputIds, "int64", [b, s])
  const cos = g.input(stepNames.cos, "float32", [b, s, headDim])
  const sin = g.input(stepNames.sin, "float32", [b, s, headDim])
  const mask = g.input(stepNames.mask, "bool", [b, 1, s, c + s])
  const maskWindow = usesWindowMask(config) ? g.input(stepNames.maskWindow, "bool", [b, 1, s, c + s]) : mask
  const frozen = { trainable: false }
  const embed = g.parameter("model.embed_tokens.weight", "float32", [config.vocabSize, hidden], frozen)
  let h = embedding(embed, ids)
  const heads = (t: Tensor, n: number) => transpose(reshape(t, [b, s, n, headDim]), [0, 2, 1, 3])
  for (let layer = 0; layer < config.numLayers; layer++) {
    const prefix = `model.layers.${layer}`
    const linear = (input: Tensor, target: LoraTarget, output: number, bias: boolean) => projection(input, layer, target, output, bias, lora)
    const inputNorm = g.parameter(`${prefix}.input_layernorm.weight`, "float32", [hidden], frozen)
    const x = rmsNorm(h, inputNorm, config.rmsNormEps)
    const q = applyRotary(heads(linear(x, "q_proj", numHeads * headDim, config.qkvBias), numHeads), cos, sin)
    let k = applyRotary(heads(linear(x, "k_proj", kvHeads * headDim, config.qkvBias), kvHeads), cos, sin)
    let v = heads(linear(x, "v_proj", kvHeads * headDim, config.qkvBias), kvHeads)
    if (c > 0) {
      k = concat([g.input(stepNames.pastKey(layer), "float32", [b, kvHeads, c, headDim]), k], 2)
      v = concat([g.input(stepNames.pastValue(layer), "float32", [b, kvHeads, c, headDim]), v], 2)
      g.output(stepNames.presentKey(layer), slice(k, [{ axis: 2, start: s }]))
      g.output(stepNames.presentValue(layer), slice(v, [{ axis: 2, start: s }]))
    }
    const groups = numHeads / kvHeads
    const layerMask = config.slidingWindowPerLayer[layer] === null ? mask : maskWindow
    const attended = scaledDotProductAttention(q, repeatKv(k, groups), repeatKv(v, groups), layerMask)
    const merged = reshape(transpose(attended, [0, 2, 1, 3]), [b, s, numHeads * headDim])
    h = add(h, linear(merged, "o_proj", hidden, config.oBias))
    const postNorm = g.parameter(`${prefix}.post_attention_layernorm.weight`, "float32", [hidden], frozen)
    const y = rmsNorm(h, postNorm, config.rmsNormEps)
    const gate = linear(y, "gate_proj", config.intermediateSize, config.mlpBias)
    const up = linear(y, "up_proj", config.intermediateSize, config.mlpBias)
    h = add(h, linear(mul(silu(gate), up), "down_proj", hidden, config.mlpBias))
  }
  h = rmsNorm(h, g.parameter("model.norm.weight", "float32", [hidden], frozen), config.rmsNormEps)
  const lmHead = config.tieWordEmbeddings ? embed : g.parameter("lm_head.weight", "float32", [config.vocabSize, hidden], frozen)
  return { g, h, lmHead }
}

/**
 * The masked mean cross-entropy of `targets` (no output declared), for
 * training programs that differentiate it (LoRA parameters are the trainable ones).
 */
export const buildLossGraph = (config: LlamaConfig, shape: Omit<StepShape, "cache">, lora?: ProgramLora): { graph: Graph; loss: Tensor } => {
  const { g, h, lmHead } = buildTrunk(config, { ...shape, cache: 0 }, lora)
  const targets = g.input(stepNames.targets, "int64", [shape.batch, shape.length])
  const lossMask = g.input(stepNames.lossMask, "float32", [shape.batch, shape.length])
  return { graph: g, loss: crossEntropy(matmul(h, transposeLast2(lmHead)), targets, lossMask) }
}

/** Builds the step program's graph (outputs declared). */
export const buildStepGraph = (config: LlamaConfig, shape: StepShape, head: StepHead, lora?: ProgramLora): Graph => {
  if (head === "loss") {
    const { graph, loss } = buildLossGraph(config, shape, lora)
    graph.output("loss", loss)
    return graph
  }
  const { g, h, lmHead } = buildTrunk(config, shape, lora)
  const { batch: b, length: s } = shape
  const hidden = config.hiddenSize
  if (head === "last-logits") {
    // Left padding puts every row's newest token last, so one slice serves the whole batch.
    const last = reshape(slice(h, [{ axis: 1, start: s - 1 }]), [b, hidden])
    g.output("logits", matmul(last, transposeLast2(lmHead)))
    return g
  }
  const logits = matmul(h, transposeLast2(lmHead))
  if (head === "all-logits") g.output("logits", logits)
  else g.output("logprobs", tokenLogProbs(logits, g.input(stepNames.targets, "int64", [b, s])))
  return g
}
