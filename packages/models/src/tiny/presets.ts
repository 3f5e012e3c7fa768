/**
 * Tiny model configurations in Hugging Face `config.json` form, one per
 * supported architecture, each exercising that architecture's quirks: llama
 * with llama3 rope scaling and untied embeddings, mistral with a short sliding
 * window, single KV head (GQA 4:1) and linear rope scaling, qwen2 with q/k/v
 * bias and tied embeddings, qwen3 with q/k RMSNorm, heads wider than the hidden
 * size (4 × 32 > 64), a sliding window on its second layer only, and
 * transformers 5's config layout (`rope_parameters`, `layer_types`), olmo2
 * with norms after attention and MLP and q/k RMSNorm over whole projections,
 * olmo3 as olmo2 with a 4-token window on its first layer,
 * smollm3 with its second layer attending without rotary and sliding (derived
 * from `no_rope_layers`), theta and tied embeddings left to the architecture's
 * defaults, granite with its four multipliers (embeddings, attention scores,
 * residual branches, logits), gemma2 with soft caps tight enough to bend most
 * attention scores and the top logits (1.5 and 8; checkpoints have 50 and 30)
 * and its even layers sliding, gemma3_text with norms before and after both
 * branches that scale by (1 + weight), a tanh-GELU MLP, a query scale of
 * query_pre_attn_scalar^-½ other than 1/√head_dim, heads wider than the hidden
 * size, a sliding first layer (transformers 4.50's `sliding_window_pattern`)
 * rotating with its own unscaled table while the full layer's is linearly scaled,
 * and an LM head of its own (tied, the scaled embeddings dominate the logits of
 * an untrained model: it would only ever repeat its input token), phi3 with
 * fused q/k/v and gate/up projections, half of each head rotating
 * (Phi-4-mini's partial rotary), longrope whose 16-token original context the
 * golden prompts and their continuations outgrow (short and long factors both
 * used, and the switch met while generating), and a 12-token window on every layer,
 * gemma3, the multimodal Gemma 3 around the gemma3_text decoder (the same weights, under
 * `model.language_model.`, beside a one-layer SigLIP tower and its projector), and mistral3,
 * Mistral Small 3.1's layout around the mistral decoder (a one-layer Pixtral tower, the patch merger).
 * The vocabulary is the Qwen3 tokenizer's (151,669
 * tokens) because the embedding must match the tokenizer.
 */

/** Token ids of the bundled Qwen3 tokenizer. */
export const QWEN3_TOKENIZER = { vocabSize: 151669, endOfText: 151643, imEnd: 151645 } as const

const common = {
  vocab_size: QWEN3_TOKENIZER.vocabSize,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  hidden_act: "silu",
  max_position_embeddings: 512,
  rms_norm_eps: 1e-5,
  bos_token_id: null,
  eos_token_id: QWEN3_TOKENIZER.imEnd,
  pad_token_id: QWEN3_TOKENIZER.endOfText,
  torch_dtype: "float32"
}

const mistralText = {
  ...common,
  architectures: ["MistralForCausalLM"],
  model_type: "mistral",
  num_key_value_heads: 1,
  rope_theta: 1000000,
  rope_scaling: { type: "linear", factor: 2 },
  sliding_window: 8,
  tie_word_embeddings: false
} as const

const gemma3Text = {
  ...common,
  architectures: ["Gemma3ForCausalLM"],
  model_type: "gemma3_text",
  hidden_act: undefined,
  hidden_activation: "gelu_pytorch_tanh",
  head_dim: 32,
  query_pre_attn_scalar: 24,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  rope_scaling: { rope_type: "linear", factor: 8 },
  rope_local_base_freq: 10000,
  sliding_window: 4,
  sliding_window_pattern: 2,
  final_logit_softcapping: null,
  attn_logit_softcapping: null,
  attention_bias: false,
  tie_word_embeddings: false
} as const

/** Preset configs by name. */
export const TINY_PRESETS = {
  llama: {
    ...common,
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    rope_theta: 10000,
    rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 },
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: false
  },
  mistral: mistralText,
  qwen2: {
    ...common,
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    rope_theta: 1000000,
    rms_norm_eps: 1e-6,
    use_sliding_window: false,
    sliding_window: 32,
    max_window_layers: 2,
    tie_word_embeddings: true
  },
  qwen3: {
    ...common,
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    head_dim: 32,
    rms_norm_eps: 1e-6,
    rope_parameters: { rope_type: "default", rope_theta: 1000000 },
    attention_bias: false,
    use_sliding_window: true,
    sliding_window: 8,
    max_window_layers: 1,
    layer_types: ["full_attention", "sliding_attention"],
    tie_word_embeddings: true
  },
  olmo2: {
    ...common,
    architectures: ["Olmo2ForCausalLM"],
    model_type: "olmo2",
    rope_theta: 500000,
    rope_scaling: null,
    rms_norm_eps: 1e-6,
    attention_bias: false,
    tie_word_embeddings: false
  },
  olmo3: {
    ...common,
    architectures: ["Olmo3ForCausalLM"],
    model_type: "olmo3",
    rope_theta: 500000,
    rope_scaling: null,
    rms_norm_eps: 1e-6,
    attention_bias: false,
    sliding_window: 4,
    layer_types: ["sliding_attention", "full_attention"],
    tie_word_embeddings: false
  },
  smollm3: {
    ...common,
    architectures: ["SmolLM3ForCausalLM"],
    model_type: "smollm3",
    rms_norm_eps: 1e-6,
    no_rope_layers: [1, 0],
    use_sliding_window: true,
    sliding_window: 8,
    attention_bias: false,
    mlp_bias: false
  },
  granite: {
    ...common,
    architectures: ["GraniteForCausalLM"],
    model_type: "granite",
    rope_theta: 10000000,
    embedding_multiplier: 12,
    attention_multiplier: 0.1,
    residual_multiplier: 0.22,
    logits_scaling: 8,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: true
  },
  gemma2: {
    ...common,
    architectures: ["Gemma2ForCausalLM"],
    model_type: "gemma2",
    hidden_act: undefined,
    hidden_activation: "gelu_pytorch_tanh",
    head_dim: 32,
    query_pre_attn_scalar: 24,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    sliding_window: 4,
    attn_logit_softcapping: 1.5,
    final_logit_softcapping: 8,
    attention_bias: false,
    tie_word_embeddings: false
  },
  gemma3_text: gemma3Text,
  gemma3: {
    architectures: ["Gemma3ForConditionalGeneration"],
    model_type: "gemma3",
    text_config: { ...gemma3Text, architectures: undefined, torch_dtype: undefined },
    vision_config: {
      model_type: "siglip_vision_model",
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_channels: 3,
      image_size: 28,
      patch_size: 14,
      hidden_act: "gelu_pytorch_tanh",
      layer_norm_eps: 1e-6,
      vision_use_head: false
    },
    mm_tokens_per_image: 1,
    boi_token_index: QWEN3_TOKENIZER.vocabSize - 3,
    eoi_token_index: QWEN3_TOKENIZER.vocabSize - 2,
    image_token_index: QWEN3_TOKENIZER.vocabSize - 1,
    bos_token_id: null,
    eos_token_id: QWEN3_TOKENIZER.imEnd,
    pad_token_id: QWEN3_TOKENIZER.endOfText,
    tie_word_embeddings: false,
    torch_dtype: "float32"
  },
  mistral3: {
    architectures: ["Mistral3ForConditionalGeneration"],
    model_type: "mistral3",
    text_config: { ...mistralText, architectures: undefined, torch_dtype: undefined },
    vision_config: {
      model_type: "pixtral",
      hidden_size: 16,
      intermediate_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      head_dim: 8,
      num_channels: 3,
      image_size: 28,
      patch_size: 14,
      hidden_act: "gelu",
      rope_theta: 10000
    },
    image_token_index: QWEN3_TOKENIZER.vocabSize - 1,
    projector_hidden_act: "gelu",
    vision_feature_layer: -1,
    multimodal_projector_bias: false,
    spatial_merge_size: 2,
    bos_token_id: null,
    eos_token_id: QWEN3_TOKENIZER.imEnd,
    pad_token_id: QWEN3_TOKENIZER.endOfText,
    tie_word_embeddings: false,
    torch_dtype: "float32"
  },
  phi3: {
    ...common,
    architectures: ["Phi3ForCausalLM"],
    model_type: "phi3",
    head_dim: undefined,
    rope_theta: 10000,
    partial_rotary_factor: 0.5,
    original_max_position_embeddings: 16,
    rope_scaling: { type: "longrope", short_factor: [1, 1.5, 2.5, 4], long_factor: [1.2, 3, 7, 16] },
    sliding_window: 12,
    tie_word_embeddings: false
  }
} as const

export type TinyPresetName = keyof typeof TINY_PRESETS

/** The preset names, in declaration order (what a recipe's `builtin.preset` may name besides speaker). */
export const TINY_PRESET_NAMES = Object.keys(TINY_PRESETS) as Array<TinyPresetName>
