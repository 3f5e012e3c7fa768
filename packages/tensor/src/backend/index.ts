/** The compute-backend contract: service, host tensors, errors. */
export * from "./Backend.ts"
export * from "./errors.ts"
export * from "./float16.ts"
export * from "./host-tensor.ts"
export * from "./quantised.ts"
