/** Safetensors reading and writing: validated headers, on-demand tensor reads, sharded checkpoints. */
export * from "./dtype.ts"
export * from "./errors.ts"
export * from "./header.ts"
export * from "./reader.ts"
export * from "./writer.ts"
export * from "./sharded.ts"
