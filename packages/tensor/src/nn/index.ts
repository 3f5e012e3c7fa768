/** nn building blocks as program builders. */
export * from "./linear.ts"
export * from "./norm.ts"
export * from "./rotary.ts"
export * from "./attention.ts"
export * from "./loss.ts"
