/** Hugging Face model-folder configuration: config.json, generation_config.json, rope scaling. */
export * from "./errors.ts"
export * from "./fields.ts"
export * from "./rope.ts"
export * from "./llama-config.ts"
export * from "./multimodal-config.ts"
export * from "./generation-config.ts"
export * from "./model-folder.ts"
export * from "./folder-check.ts"
