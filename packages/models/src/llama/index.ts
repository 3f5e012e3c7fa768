/** The Llama-family trunk as program builders: projections, trunk, heads, step programs, host feeds, weights. */
export * from "./projections.ts"
export * from "./trunk.ts"
export * from "./heads.ts"
export * from "./step-graph.ts"
export * from "./step-feeds.ts"
export * from "./weights.ts"
export * from "./checkpoint-names.ts"
export * from "./stored-precision.ts"
