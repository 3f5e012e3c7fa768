/** The decoder on the compute core: step programs, host feeds, weights, runtime. */
export * from "./program.ts"
export * from "./step-feeds.ts"
export * from "./weights.ts"
export * from "./runtime.ts"
