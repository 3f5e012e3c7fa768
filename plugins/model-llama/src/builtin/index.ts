/** Built-in tiny models: presets, the seeded writer and the cached `builtin` folders of `llama/hf`. */
export * from "./presets.ts"
export { normalTensor } from "./random.ts"
export * from "./tensor-plan.ts"
export * from "./errors.ts"
export * from "./write-tiny-model.ts"
export * from "./builtin-model.ts"
