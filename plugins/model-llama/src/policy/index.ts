/** The `PolicyModel` service (packages/training contract) on the Llama runtime. */
export * from "./policy-model.ts"
export * from "./policy-session.ts"
export * from "./policy-program.ts"
export * from "./policy-layout.ts"
export * from "./policy-checkpoint.ts"
