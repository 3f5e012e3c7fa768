/** Batched KV-cache generation on the compute core. */
export * from "./buckets.ts"
export * from "./row.ts"
export * from "./kv-cache.ts"
export * from "./generate.ts"
export * from "./scheduler.ts"
export * from "./finite-check.ts"
