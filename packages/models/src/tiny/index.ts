/** Seeded tiny Hugging Face model folders: presets, tensor plans, the writer. */
export * from "./presets.ts"
export { normalTensor } from "./random.ts"
export * from "./tensor-plan.ts"
export * from "./errors.ts"
export * from "./write-tiny-model.ts"
export * from "./scorer-plan.ts"
