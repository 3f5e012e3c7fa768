/** Host-side token selection: PRNG streams, penalties, greedy / top-k / top-p sampling, stop strings. */
export * from "./prng.ts"
export * from "./penalties.ts"
export * from "./sample.ts"
