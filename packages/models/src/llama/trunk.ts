/**
 * The one Llama-family decoder trunk (llama, mistral, qwen2, qwen3, olmo2,
 * olmo3, smollm3, granite, gemma2, gemma3, phi3) as a tensor program for one shape bucket; heads
 * (`heads.ts`) read its final hidden state. One builder covers every use:
 *
 * - no cache (`cache: 0`): a full forward — scoring, training, reference runs;
 * - with a cache of `cache` slots: the step reads `past_key.<l>` /
 *   `past_value.<l>` [batch, kvHeads, cache, headDim], attends over those slots
 *   plus the `length` new tokens, and returns `present_*` = the last `cache`
 *   slots of (past ++ new). The cache is a fixed-size window that slides left,
 *   so prefill (length = prompt bucket) and decode (length = 1) keep constant
 *   shapes and one compiled program serves every decode step
 *   (`cacheUpdate: "slide"`, for caches that stay in device memory);
 * - or (`cacheUpdate: "append"`) the step returns only the new tokens' keys
 *   and values, `new_key.<l>` / `new_value.<l>` [batch, kvHeads, length,
 *   headDim], and the caller writes them into free slots of its host cache in
 *   place. Attention then reads the cache where it lies (scores against the
 *   slots and against the new tokens, one softmax over both), so a step copies
 *   nothing of size `cache`: no concatenation, no sliding, no per-head
 *   repetition of grouped kv heads. Slot order does not matter (masks carry
 *   the positions), so any slot whose position is −1 is free.
 *
 * Positions and visibility are host inputs (`step-feeds.ts`): `cos`/`sin`
 * [batch, length, rotaryDim] (rotaryDim = headDim but for phi3's partly rotating heads; any rope scaling, per-row positions under left
 * padding; gemma3's sliding layers read a second pair, `cos_local` /
 * `sin_local`) and bool masks [batch, 1, length, cache + length] (`mask` for
 * full-attention layers, `mask_window` for sliding-window layers). Parameters
 * carry Hugging Face names, so checkpoint tensors bind to them directly.
 *
 * @example
 * ```ts
 * import { llamaTrunk, lmLogits, parseLlamaConfig } from "@refine-af/models"
 * declare const config: import("@refine-af/models").LlamaConfig
 * const trunk = llamaTrunk(config, { batch: 2, length: 16, cache: 0 })
 * trunk.graph.output("logits", lmLogits(trunk, "all"))
 * const program = trunk.graph.build()
 * ```
 */
import {
  add,
  applyLinear,
  applyRotary,
  attentionBias,
  concat,
  embedding,
  gather,
  gelu,
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
  softcap,
  softmax,
  transpose,
  transposeLast2,
  type DType,
  type LinearParams,
  type Shape,
  type Tensor
} from "@refine-af/tensor"
import { rotaryDim, type LlamaConfig } from "../config/llama-config.ts"
import { projectionModule, type LlamaProjection } from "./projections.ts"

/** Shape bucket of a trunk program. */
export interface StepShape {
  readonly batch: number
  /** New tokens per row in this run. */
  readonly length: number
  /** KV-cache slots (0: no cache inputs/outputs). */
  readonly cache: number
  /** `target-logprobs` only: compute them on the last `window` positions (default: every position); `targets` and `logprobs` are [batch, window]. */
  readonly window?: number
  /** `target-logprobs` only: the rows share prompts ({@link TrunkOptions.sharedPrompt}); `length` is then the rows' part. */
  readonly prompts?: { readonly count: number; readonly length: number }
}

/** LoRA adapters inside the program (trainable parameters named `<module>.lora_A.weight` / `.lora_B.weight`). */
export interface ProgramLora {
  readonly rank: number
  readonly alpha: number
  readonly targets: ReadonlyArray<LlamaProjection>
  /** Scale override (rsLoRA); default alpha / rank. */
  readonly scale?: number
  /**
   * Training with LoRA dropout: every adapted projection takes an input
   * `lora_dropout.<module>` [batch, length, in] (keep mask already divided by
   * 1 − p) that multiplies the adapter branch's input, as PEFT's lora_dropout does.
   */
  readonly dropout?: boolean
}

/** Options of {@link llamaTrunk}. */
export interface TrunkOptions {
  readonly lora?: ProgramLora
  /**
   * Base weights (embeddings, norms, projections, heads) trainable — full
   * fine-tuning and the compute benchmark. Default false: frozen base, only
   * LoRA (and heads that say so) train.
   */
  readonly trainableBase?: boolean
  /** Parameter and activation dtype (default float32; the reference interpreter computes in float64 either way). */
  readonly dtype?: DType
  /** How a cached step hands back its keys and values (default `slide`); see the module comment. */
  readonly cacheUpdate?: CacheUpdate
  /**
   * Gradient checkpointing: each decoder layer is a `Graph.checkpoint`
   * segment, so a training program keeps one hidden state per layer between
   * the forward and backward passes and recomputes the layer's activations
   * when the backward pass reaches it (one more forward's compute, activation
   * memory of one layer instead of all). No effect without gradients.
   */
  readonly checkpointLayers?: boolean
  /**
   * Shared prompts: the program's `batch` rows are completions of `count`
   * distinct prompts (`shape.length` = the completion part: each row's last
   * prompt token and its completion, right-padded), and every prompt runs
   * through the decoder once, not once per row. The prompt stream reads
   * `prompt.input_ids` [count, length] (the prompts without their last token,
   * left-padded to `length`), `prompt.cos` / `prompt.sin` and `prompt.mask`
   * [count, 1, length, length]; row r's completion attends to
   * prompt `prompt_row[r]`'s keys and values of each layer (gathered, so the
   * gradient of every row reaches its prompt) plus its own, exactly as a
   * decode step attends over a KV cache of `length` slots (`mask` is
   * [batch, 1, shape.length, length + shape.length]). The prompt stream's own final
   * layer (output projection and MLP) is dead code and never runs. With
   * gradient checkpointing both streams of a layer are one segment. Not with a
   * cache or LoRA dropout (its masks are drawn per row, a shared prompt would share one).
   */
  readonly sharedPrompt?: { readonly count: number; readonly length: number }
}

/** `slide`: `present_*` = the whole updated cache; `append`: `new_*` = the new tokens' keys and values only. */
export type CacheUpdate = "slide" | "append"

/** Name of the dropout-mask input of an adapted module. */
export const loraDropoutInput = (module: string): string => `lora_dropout.${module}`

/** Names of the program's run-time inputs and outputs. */
export const stepNames = {
  inputIds: "input_ids",
  cos: "cos",
  sin: "sin",
  /** gemma3's second rotary table, for its sliding-window layers ({@link LlamaConfig.localRope}). */
  cosLocal: "cos_local",
  sinLocal: "sin_local",
  mask: "mask",
  maskWindow: "mask_window",
  targets: "targets",
  lossMask: "loss_mask",
  pastKey: (layer: number) => `past_key.${layer}`,
  pastValue: (layer: number) => `past_value.${layer}`,
  presentKey: (layer: number) => `present_key.${layer}`,
  presentValue: (layer: number) => `present_value.${layer}`,
  newKey: (layer: number) => `new_key.${layer}`,
  newValue: (layer: number) => `new_value.${layer}`,
  /** An input of the shared-prompt stream (`TrunkOptions.sharedPrompt`): `prompt.<name>`. */
  prompt: (name: string) => `prompt.${name}`,
  /** Which prompt each row completes, [batch] int64 (`TrunkOptions.sharedPrompt`). */
  promptRow: "prompt_row"
} as const

/** True when some layer uses a sliding window (the program then takes `mask_window`). */
export const usesWindowMask = (config: LlamaConfig): boolean => config.slidingWindowPerLayer.some((w) => w !== null)

/** True when the sliding-window layers rotate with their own table (the program then takes `cos_local` / `sin_local`). */
export const usesLocalRope = (config: LlamaConfig): boolean => config.localRope !== null && usesWindowMask(config)

/** The rotary-table inputs a trunk of this config reads (each [batch, length, rotaryDim], Hugging Face layout). */
export const rotaryInputs = (config: LlamaConfig): Array<string> =>
  usesLocalRope(config) ? [stepNames.cos, stepNames.sin, stepNames.cosLocal, stepNames.sinLocal] : [stepNames.cos, stepNames.sin]

/** A built trunk: the graph, its final hidden state and what heads need to extend it. */
export interface LlamaTrunk {
  readonly graph: Graph
  readonly config: LlamaConfig
  readonly shape: StepShape
  readonly options: TrunkOptions
  /** `input_ids` [batch, length] int64. */
  readonly inputIds: Tensor
  /** `model.embed_tokens.weight` [vocab, hidden]. */
  readonly embed: Tensor
  /** Final-norm hidden state [batch, length, hidden]. */
  readonly hidden: Tensor
  /** Declares (once) and returns a run-time input, so several heads can share e.g. `targets`. */
  readonly input: (name: string, dtype: DType, shape: Shape) => Tensor
  /** Declares (once) and returns a parameter. */
  readonly parameter: (name: string, dtype: DType, shape: Shape, trainable: boolean) => Tensor
}

/** Applies one projection `x·Wᵀ (+ b)`, plus its LoRA branch `scale·((x ⊙ dropout)·Aᵀ)·Bᵀ` when the module is adapted. */
const projection = (x: Tensor, layer: number, target: LlamaProjection, outFeatures: number, bias: boolean, options: TrunkOptions, declared: Map<string, LinearParams>): Tensor => {
  const g = x.graph
  const { lora } = options
  const inFeatures = x.shape[x.rank - 1]!
  const module = projectionModule(layer, target)
  const adapted = lora !== undefined && lora.targets.includes(target)
  // Declared once per module: a shared-prompt trunk applies every projection to two streams.
  const params: LinearParams =
    declared.get(module) ??
    linearParams(g, module, inFeatures, outFeatures, {
      dtype: options.dtype ?? "float32",
      bias,
      trainable: options.trainableBase ?? false,
      ...(adapted ? { lora: { rank: lora.rank, alpha: lora.alpha } } : {})
    })
  declared.set(module, params)
  if (!params.lora || !lora) return applyLinear(x, params)
  const scale = lora.scale ?? params.lora.scale
  const branchInput = lora.dropout ? mul(x, g.input(loraDropoutInput(module), x.dtype, x.shape)) : x
  const base = applyLinear(x, { weight: params.weight, ...(params.bias ? { bias: params.bias } : {}) })
  return add(base, mul(matmul(matmul(branchInput, transposeLast2(params.lora.a)), transposeLast2(params.lora.b)), scale))
}

/**
 * Attention of q [b, heads, s, d] over cache slots pastK/pastV [b, kv, c, d]
 * and the new tokens k/v [b, kv, s, d], with the mask's additive `bias` [b, 1, s, c + s] (slots
 * first), the scaled scores soft-capped at `scoreCap` (the Gemmas) before it.
 * Query heads are grouped by their kv head ([b, kv, groups·s, d]) for the
 * slots and the new tokens alike, so neither the cache nor the new keys and
 * values are repeated per head; the scores of slots and new tokens share one
 * softmax, and both weighted sums add up in the grouped layout.
 */
const attendOverCache = (q: Tensor, k: Tensor, v: Tensor, pastK: Tensor, pastV: Tensor, bias: Tensor, groups: number, scoreCap: number | null): Tensor => {
  const [b, numHeads, s, d] = q.shape as [number, number, number, number]
  const [, kvHeads, c] = pastK.shape as [number, number, number]
  const grouped = reshape(mul(q, 1 / Math.sqrt(d)), [b, kvHeads, groups * s, d])
  const scores = softcap(reshape(concat([matmul(grouped, transposeLast2(pastK)), matmul(grouped, transposeLast2(k))], 3), [b, numHeads, s, c + s]), scoreCap)
  const probs = reshape(softmax(add(scores, bias), -1), [b, kvHeads, groups * s, c + s])
  const fromSlots = matmul(slice(probs, [{ axis: 3, end: c }]), pastV)
  const fromNew = matmul(slice(probs, [{ axis: 3, start: c }]), v)
  return reshape(add(fromSlots, fromNew), [b, numHeads, s, d])
}

/**
 * Builds the decoder trunk for `shape`: embeddings, every decoder layer (KV
 * cache outputs declared when `shape.cache > 0`) and the final norm. Add a
 * head from `heads.ts` and declare its output.
 */
export const llamaTrunk = (config: LlamaConfig, shape: StepShape, options: TrunkOptions = {}): LlamaTrunk => {
  const { batch: b, length: s, cache: c } = shape
  const { hiddenSize: hidden, numHeads, numKeyValueHeads: kvHeads, headDim } = config
  const dtype = options.dtype ?? "float32"
  const trainable = options.trainableBase ?? false
  const g = new Graph()
  const inputs = new Map<string, Tensor>()
  const parameters = new Map<string, Tensor>()
  const input = (name: string, inputDtype: DType, inputShape: Shape): Tensor => {
    const known = inputs.get(name)
    if (known) return known
    const created = g.input(name, inputDtype, inputShape)
    inputs.set(name, created)
    return created
  }
  const parameter = (name: string, paramDtype: DType, paramShape: Shape, paramTrainable: boolean): Tensor => {
    const known = parameters.get(name)
    if (known) return known
    const created = g.parameter(name, paramDtype, paramShape, { trainable: paramTrainable })
    parameters.set(name, created)
    return created
  }
  const shared = options.sharedPrompt
  if (shared !== undefined && (c > 0 || options.lora?.dropout === true)) {
    throw new RangeError("llamaTrunk: sharedPrompt cannot be combined with a KV cache or LoRA dropout (its masks are drawn per row)")
  }
  const declared = new Map<string, LinearParams>()
  const ids = input(stepNames.inputIds, "int64", [b, s])
  const rotary = rotaryDim(config)
  const cos = input(stepNames.cos, dtype, [b, s, rotary])
  const sin = input(stepNames.sin, dtype, [b, s, rotary])
  const localRotary = usesLocalRope(config) ? { cos: input(stepNames.cosLocal, dtype, [b, s, rotary]), sin: input(stepNames.sinLocal, dtype, [b, s, rotary]) } : undefined
  // Additive biases built once from the bool masks and shared by every layer (see attentionBias).
  const past = shared?.length ?? c
  const maskBias = attentionBias(input(stepNames.mask, "bool", [b, 1, s, past + s]), dtype)
  const windowBias = usesWindowMask(config) ? attentionBias(input(stepNames.maskWindow, "bool", [b, 1, s, past + s]), dtype) : maskBias
  const embed = parameter("model.embed_tokens.weight", dtype, [config.vocabSize, hidden], trainable)
  const headsOf = (t: Tensor, n: number) => {
    const [rows, length] = t.shape as [number, number, number]
    return transpose(reshape(t, [rows, length, n, headDim]), [0, 2, 1, 3])
  }
  const groups = numHeads / kvHeads
  const nope = new Set(config.nopeLayers)
  // granite's multipliers (1 elsewhere): embeddings, attention scores (q is scaled so that the
  // 1/√headDim every attention applies yields `attention`), each branch before the residual.
  const scaled = (t: Tensor, factor: number) => (factor === 1 ? t : mul(t, factor))
  const embedScale = config.multipliers?.embedding ?? 1
  const queryScale = config.multipliers === null ? 1 : config.multipliers.attention * Math.sqrt(headDim)
  const residualScale = config.multipliers?.residual ?? 1
  // The Gemmas' norms scale by (1 + weight).
  const rmsNormNamed = (t: Tensor, name: string, width: number) => {
    const weight = parameter(name, dtype, [width], trainable)
    return rmsNorm(t, config.normWeightOffset === 0 ? weight : add(weight, config.normWeightOffset), config.rmsNormEps)
  }
  const activation = (t: Tensor) => (config.activation === "silu" ? silu(t) : gelu(t, config.activation === "gelu_tanh" ? "tanh" : "none"))
  /** A stream's rotary tables: the full-attention layers' pair, and the sliding layers' own where the model has one. */
  type Rotary = { readonly cos: Tensor; readonly sin: Tensor; readonly local?: { readonly cos: Tensor; readonly sin: Tensor } | undefined }
  /** How a stream's layer attends, given its rotated q, k and v [rows, heads, length, headDim]. */
  type Attend = (layer: number, q: Tensor, k: Tensor, v: Tensor) => Tensor
  const decoderLayer = (residual: Tensor, layer: number, stream: Rotary, attend: Attend): Tensor => {
    const prefix = `model.layers.${layer}`
    const linear = (x: Tensor, target: LlamaProjection, output: number, bias: boolean) => projection(x, layer, target, output, bias, options, declared)
    const [rows, length] = residual.shape as [number, number, number]
    const norm = (t: Tensor, name: string, width: number) => rmsNormNamed(t, `${prefix}.${name}.weight`, width)
    // olmo2 normalises each branch's output (post norms) instead of its input; the Gemmas both (sandwich norms).
    const preNorms = !config.postNorms || config.sandwichNorms
    const x = preNorms ? norm(residual, "input_layernorm", hidden) : residual
    // phi3's one q/k/v projection, split by rows (q, then k, then v), or three projections.
    const fusedQkv = config.fusedProjections ? linear(x, "qkv_proj", (numHeads + 2 * kvHeads) * headDim, config.qkvBias) : undefined
    const columns = (t: Tensor, start: number, width: number) => slice(t, [{ axis: 2, start, end: start + width }])
    const projected = (target: "q_proj" | "k_proj" | "v_proj", heads: number) => {
      if (fusedQkv === undefined) return linear(x, target, heads * headDim, config.qkvBias)
      const start = target === "q_proj" ? 0 : target === "k_proj" ? numHeads * headDim : (numHeads + kvHeads) * headDim
      return columns(fusedQkv, start, heads * headDim)
    }
    // q and k RMS-normalised before rotary: each head (qwen3, gemma3) or the whole projection (olmo2).
    const queryKey = (target: "q_proj" | "k_proj", heads: number) => {
      const out = projected(target, heads)
      const name = target === "q_proj" ? "self_attn.q_norm" : "self_attn.k_norm"
      if (config.qkNorm === "projection") return headsOf(norm(out, name, heads * headDim), heads)
      return config.qkNorm === "head" ? norm(headsOf(out, heads), name, headDim) : headsOf(out, heads)
    }
    // smollm3's NoPE layers attend without rotary; gemma3's sliding layers rotate with their own table;
    // phi3's heads may rotate only their first `rotary` dimensions and pass the rest through.
    const tables = stream.local !== undefined && config.slidingWindowPerLayer[layer] !== null ? stream.local : stream
    const rotateWhole = (t: Tensor) => applyRotary(t, tables.cos, tables.sin)
    const rotate = (t: Tensor) =>
      nope.has(layer) ? t : rotary === headDim ? rotateWhole(t) : concat([rotateWhole(slice(t, [{ axis: 3, end: rotary }])), slice(t, [{ axis: 3, start: rotary }])], 3)
    const q = scaled(rotate(queryKey("q_proj", numHeads)), queryScale)
    const k = rotate(queryKey("k_proj", kvHeads))
    const v = headsOf(projected("v_proj", kvHeads), kvHeads)
    const attended = attend(layer, q, k, v)
    const merged = reshape(transpose(attended, [0, 2, 1, 3]), [rows, length, numHeads * headDim])
    const attentionOut = linear(merged, "o_proj", hidden, config.oBias)
    const attendedH = add(residual, scaled(config.postNorms ? norm(attentionOut, "post_attention_layernorm", hidden) : attentionOut, residualScale))
    const y = config.sandwichNorms ? norm(attendedH, "pre_feedforward_layernorm", hidden) : config.postNorms ? attendedH : norm(attendedH, "post_attention_layernorm", hidden)
    // phi3's one gate/up projection: gate rows first, then up.
    const gateUp = config.fusedProjections ? linear(y, "gate_up_proj", 2 * config.intermediateSize, config.mlpBias) : undefined
    const gate = gateUp === undefined ? linear(y, "gate_proj", config.intermediateSize, config.mlpBias) : columns(gateUp, 0, config.intermediateSize)
    const up = gateUp === undefined ? linear(y, "up_proj", config.intermediateSize, config.mlpBias) : columns(gateUp, config.intermediateSize, config.intermediateSize)
    const mlpOut = linear(mul(activation(gate), up), "down_proj", hidden, config.mlpBias)
    return add(attendedH, scaled(config.postNorms ? norm(mlpOut, "post_feedforward_layernorm", hidden) : mlpOut, residualScale))
  }
  const layerBias = (layer: number, full: Tensor, windowed: Tensor) => (config.slidingWindowPerLayer[layer] === null ? full : windowed)
  let attend: Attend = (layer, q, k, v) => {
    const bias = layerBias(layer, maskBias, windowBias)
    if (c > 0 && options.cacheUpdate === "append") {
      const pastK = input(stepNames.pastKey(layer), dtype, [b, kvHeads, c, headDim])
      const pastV = input(stepNames.pastValue(layer), dtype, [b, kvHeads, c, headDim])
      g.output(stepNames.newKey(layer), k)
      g.output(stepNames.newValue(layer), v)
      return attendOverCache(q, k, v, pastK, pastV, bias, groups, config.attentionSoftcap)
    }
    if (c > 0) {
      k = concat([input(stepNames.pastKey(layer), dtype, [b, kvHeads, c, headDim]), k], 2)
      v = concat([input(stepNames.pastValue(layer), dtype, [b, kvHeads, c, headDim]), v], 2)
      g.output(stepNames.presentKey(layer), slice(k, [{ axis: 2, start: s }]))
      g.output(stepNames.presentValue(layer), slice(v, [{ axis: 2, start: s }]))
    }
    return scaledDotProductAttention(q, repeatKv(k, groups), repeatKv(v, groups), bias, config.attentionSoftcap)
  }
  // The shared prompts' stream: each layer's keys and values, read by the rows' stream of the same layer.
  let promptLayer: ((hidden: Tensor, layer: number) => Tensor) | undefined
  let hp: Tensor | undefined
  if (shared !== undefined) {
    const { count: prompts, length: promptLength } = shared
    const promptTable = (name: string) => input(stepNames.prompt(name), dtype, [prompts, promptLength, rotary])
    const promptRotary: Rotary = {
      cos: promptTable(stepNames.cos),
      sin: promptTable(stepNames.sin),
      local: localRotary === undefined ? undefined : { cos: promptTable(stepNames.cosLocal), sin: promptTable(stepNames.sinLocal) }
    }
    const promptMask = (name: string) => attentionBias(input(stepNames.prompt(name), "bool", [prompts, 1, promptLength, promptLength]), dtype)
    const promptBias = promptMask(stepNames.mask)
    const promptWindowBias = usesWindowMask(config) ? promptMask(stepNames.maskWindow) : promptBias
    const promptRow = input(stepNames.promptRow, "int64", [b])
    const keyValues: Array<{ k: Tensor; v: Tensor }> = []
    hp = scaled(embedding(embed, input(stepNames.prompt(stepNames.inputIds), "int64", [prompts, promptLength])), embedScale)
    promptLayer = (hidden, layer) =>
      decoderLayer(hidden, layer, promptRotary, (l, q, k, v) => {
        keyValues[l] = { k, v }
        return scaledDotProductAttention(q, repeatKv(k, groups), repeatKv(v, groups), layerBias(l, promptBias, promptWindowBias), config.attentionSoftcap)
      })
    attend = (layer, q, k, v) => {
      const { k: promptK, v: promptV } = keyValues[layer]!
      return attendOverCache(q, k, v, gather(promptK, promptRow, 0), gather(promptV, promptRow, 0), layerBias(layer, maskBias, windowBias), groups, config.attentionSoftcap)
    }
  }
  let h = scaled(embedding(embed, ids), embedScale)
  for (let layer = 0; layer < config.numLayers; layer++) {
    // Both streams of a layer in one step (one checkpoint segment): the rows read the prompts' keys and values of the same layer.
    const layerStep = (rows: Tensor, prompts: Tensor | undefined): [Tensor, Tensor | undefined] => {
      const nextPrompts = prompts === undefined ? undefined : promptLayer!(prompts, layer)
      return [decoderLayer(rows, layer, { cos, sin, local: localRotary }, attend), nextPrompts]
    }
    const rowsIn = h
    const promptsIn = hp
    const [rowsOut, promptsOut] = options.checkpointLayers ? g.checkpoint(promptsIn === undefined ? [rowsIn] : [rowsIn, promptsIn], () => layerStep(rowsIn, promptsIn)) : layerStep(rowsIn, promptsIn)
    h = rowsOut
    hp = promptsOut
  }
  h = rmsNormNamed(h, "model.norm.weight", hidden)
  return { graph: g, config, shape, options, inputIds: ids, embed, hidden: h, input, parameter }
}
