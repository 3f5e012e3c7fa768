/**
 * The synthetic Llama shapes the benchmarks write with `makeTinyModel`
 * (random weights): one definition, so `bench-llama`, `bench-weights`,
 * `bench-quant` and `bench-checkpointing` measure the same models.
 *
 * @example
 * ```ts
 * import { BENCH_LLAMA_SHAPES } from "../tiny-model/bench-shapes.ts"
 * const overrides = BENCH_LLAMA_SHAPES["1.1b"] // config.json fields for makeTinyModel
 * ```
 */

/** Fields every benchmark shape shares (a 32000-token vocabulary, untied head). */
export const BENCH_LLAMA_BASE = { rope_scaling: null, tie_word_embeddings: false, vocab_size: 32000, head_dim: 64, max_position_embeddings: 2048, rms_norm_eps: 1e-5 }

/** config.json overrides of each benchmark model, by name. */
export const BENCH_LLAMA_SHAPES = {
  "30m": { ...BENCH_LLAMA_BASE, hidden_size: 384, intermediate_size: 1024, num_hidden_layers: 4, num_attention_heads: 6, num_key_value_heads: 6 },
  "120m": { ...BENCH_LLAMA_BASE, hidden_size: 768, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 12, num_key_value_heads: 4 },
  // TinyLlama-1.1B's shape.
  "1.1b": { ...BENCH_LLAMA_BASE, hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22, num_attention_heads: 32, num_key_value_heads: 4 },
  // LLaMA-2-7B's shape.
  "7b": { ...BENCH_LLAMA_BASE, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, head_dim: 128, max_position_embeddings: 4096 }
} as const satisfies Record<string, Record<string, unknown>>
