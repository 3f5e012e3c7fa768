/** Optimizers and training-step programs. */
export * from "./optimizer.ts"
export * from "./adamw.ts"
export * from "./sgd.ts"
export * from "./clip.ts"
export * from "./train-step.ts"
