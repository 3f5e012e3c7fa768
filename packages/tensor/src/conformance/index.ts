/**
 * The tensor conformance suite for backends (`@refine-af/tensor` re-exports it).
 */
export * from "./case.ts"
export * from "./random.ts"
export * from "./suite.ts"
export * from "./bound-weights.ts"
