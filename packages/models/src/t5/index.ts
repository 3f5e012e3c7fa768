/** T5 (v1.0 / v1.1; UniEval): config, relative-position buckets, weight names, first-decoder-step program. */
export * from "./config.ts"
export * from "./program.ts"
export * from "./load.ts"
