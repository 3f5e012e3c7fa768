/**
 * `@refine-af/training`: the contract between training algorithms (SFT, PPO,
 * GRPO, RLOO) and trainable models — `PolicyModel`, `PolicySession`,
 * `Objective` — plus the checks every provider shares.
 */
export * from "./errors.ts"
export * from "./lora.ts"
export * from "./objective.ts"
export * from "./sequences.ts"
export * from "./policy-session.ts"
export * from "./policy-model.ts"
export * from "./nll.ts"
export * from "./validate.ts"
export * from "./schedule.ts"
export * from "./saturation.ts"
export * from "./rl/index.ts"
