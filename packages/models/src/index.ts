/**
 * @refine-af/models — Hugging Face model I/O and architectures as tensor-program
 * builders. Plugins (model-llama, scorers) build on it; it imports no plugin.
 *
 * - `safetensors/`: bounds-checked reader, writer, sharded index, F16/BF16 conversions
 * - `config/`: `config.json` → `LlamaConfig`, rope scaling, `generation_config.json`, model folders
 * - `tokenizer/`: `AutoTokenizer` from a local folder, chat templates, incremental detokenizer
 * - `identity/`: machine-independent content ids of model and adapter folders
 * - `tiny/`: seeded tiny model folders in the Hugging Face layout (tests, quickstart)
 * - `llama/`: the one Llama-family trunk as program builders, pluggable heads (LM logits,
 *   target logprobs, entropy, value, sequence score), host feeds, checkpoint weights
 * - `memory/`: the memory estimate before loading (needed vs available, which precision fits)
 */
export * from "./safetensors/index.ts"
export * from "./config/index.ts"
export * from "./tokenizer/index.ts"
export * from "./identity/index.ts"
export * from "./tiny/index.ts"
export * from "./llama/index.ts"
export * from "./gpt-neox/index.ts"
export * from "./gpt-neox/load.ts"
export * from "./pytorch-bin/index.ts"
export * from "./checkpoint/open.ts"
export * from "./hub/index.ts"
export * from "./scoring/buckets.ts"
export * from "./t5/index.ts"
export * from "./llama-classifier/load.ts"
export * from "./memory/index.ts"
