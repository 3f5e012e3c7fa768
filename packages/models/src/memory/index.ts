export * from "./available.ts"
export * from "./check.ts"
export * from "./folder-estimate.ts"
