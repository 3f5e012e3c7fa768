/**
 * The built-in model's architecture (a small Llama: RMSNorm, rotary, GQA,
 * SwiGLU, tied embeddings) in Hugging Face `config.json` form, and its
 * from-scratch initialisation (GPT-2 style: N(0, 0.02), residual output
 * projections scaled by 1/√(2·layers), norms at 1).
 */
import { normalTensor, tinyTensorPlan } from "@refine-af/models"
import type { HostTensor } from "@refine-af/tensor"

/** Size knobs of the model. */
export interface ModelShape {
  readonly hidden: number
  readonly layers: number
  readonly heads: number
  readonly kvHeads: number
  readonly intermediate: number
  readonly maxPositions: number
}

/** The HF config for a vocabulary whose last id is `<|endoftext|>`. */
export const builtinConfig = (shape: ModelShape, vocabSize: number): Record<string, unknown> => ({
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  vocab_size: vocabSize,
  hidden_size: shape.hidden,
  intermediate_size: shape.intermediate,
  num_hidden_layers: shape.layers,
  num_attention_heads: shape.heads,
  num_key_value_heads: shape.kvHeads,
  head_dim: shape.hidden / shape.heads,
  hidden_act: "silu",
  max_position_embeddings: shape.maxPositions,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  rope_scaling: null,
  attention_bias: false,
  mlp_bias: false,
  tie_word_embeddings: true,
  bos_token_id: null,
  eos_token_id: vocabSize - 1,
  pad_token_id: vocabSize - 1,
  torch_dtype: "float32"
})

/** Initial weights by HF name, reproducible from `seed`. */
export const initialWeights = (config: Readonly<Record<string, unknown>>, seed: number): Record<string, HostTensor> => {
  const layers = config.num_hidden_layers as number
  const weights: Record<string, HostTensor> = {}
  for (const { name, shape } of tinyTensorPlan(config)) {
    const count = shape.reduce((a, b) => a * b, 1)
    const residual = /o_proj|down_proj/.test(name)
    const data = name.endsWith("norm.weight")
      ? new Float32Array(count).fill(1)
      : normalTensor(seed, name, count, residual ? 0.02 / Math.sqrt(2 * layers) : 0.02)
    weights[name] = { dtype: "float32", shape: [...shape], data }
  }
  return weights
}
