/** Frozen weights below float32: which weights, loading tensor by tensor, the on-disk cache. */
export * from "./precision.ts"
export * from "./load-at-precision.ts"
export * from "./quant-cache.ts"
