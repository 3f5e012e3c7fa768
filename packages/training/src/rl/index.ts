/**
 * RL building blocks shared by the PPO and group (GRPO/RLOO) trainers: advantage
 * estimation, KL estimators and controllers, score scaling, group baselines,
 * batch statistics, and the objectives written in the tensor IR.
 */
export * from "./stats.ts"
export * from "./gae.ts"
export * from "./kl.ts"
export * from "./kl-controller.ts"
export * from "./reward-scaling.ts"
export * from "./group-baselines.ts"
export * from "./entropy-mask.ts"
export * from "./objectives/masked.ts"
export * from "./objectives/ppo.ts"
export * from "./objectives/group.ts"
export * from "./loop/order.ts"
export * from "./loop/prompts.ts"
export * from "./loop/prompt-source.ts"
export * from "./loop/lora-targets.ts"
export * from "./loop/finite.ts"
export * from "./loop/iteration-metrics.ts"
export * from "./loop/stage-error.ts"
export * from "./loop/report-material.ts"
export * from "./loop/resume-session.ts"
export * from "./group/options.ts"
export * from "./group/stage.ts"
export { scheduleFields } from "./loop/option-fields.ts"
/** The Schema refinements and `withDefault` the RL trainers' options are written with. */
export * as rlOptionFields from "./loop/option-fields.ts"
