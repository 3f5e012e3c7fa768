/** PEFT-compatible LoRA adapters: config, weights, init, merge, folder I/O. */
export * from "./errors.ts"
export * from "./lora-config.ts"
export * from "./adapter.ts"
export * from "./adapter-io.ts"
export * from "./program-adapter.ts"
export * from "./merge.ts"
export * from "./write-merged.ts"
