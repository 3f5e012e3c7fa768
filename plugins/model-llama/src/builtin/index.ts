/** Built-in tiny models: the cached `builtin` folders of `llama/hf` (the writer lives in `@refine-af/models`). */
export * from "./errors.ts"
export * from "./builtin-model.ts"
export * from "./speaker.ts"
