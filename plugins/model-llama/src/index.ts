/**
 * `@refine-af/model-llama`: Llama-family decoders (llama, mistral, qwen2) from
 * Hugging Face folders — safetensors I/O, config parsing, tokenizers, sampling,
 * PEFT LoRA adapters.
 */
export * from "./safetensors/index.ts"
export * from "./config/index.ts"
export * from "./tokenizer/index.ts"
export * from "./sampling/index.ts"
export * from "./peft/index.ts"
export * from "./model/index.ts"
export * from "./generation/index.ts"
