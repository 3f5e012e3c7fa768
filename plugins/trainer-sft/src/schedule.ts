/**
 * `sft/lora`'s learning-rate schedules: Hugging Face's warmup + cosine /
 * linear / constant, shared with the RL trainers (`@refine-af/training`).
 *
 * @example
 * ```ts
 * import { learningRate } from "@refine-af/trainer-sft"
 * learningRate({ lr: 1e-3, warmupSteps: 10, schedule: "cosine" }, 5, 100) // 5e-4
 * ```
 */
export { learningRate } from "@refine-af/training"
