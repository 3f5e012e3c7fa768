/**
 * @refine-af/generator-self-instruct — Self-Instruct data generation as recipe
 * stages: `self-instruct/bootstrap` (instruction bootstrapping),
 * `self-instruct/classify` (classification identification) and
 * `self-instruct/instances` (input-first / output-first instance generation),
 * `self-instruct/rl-prompts` (the same prompts for an RL trainer) and the
 * `self-instruct/instance-reward` resource (a `Reward` reading completions back
 * with the instances parser and scoring them with a `Scorer`).
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/generator-self-instruct"]
 * stages:
 *   instructions: { _component_: self-instruct/bootstrap, model: policy, target: 100 }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { bootstrapStage } from "./bootstrap/stage.ts"
import { classifyStage } from "./classify/stage.ts"
import { instancesStage } from "./instances/stage.ts"
import { exportHfStage } from "./export/stage.ts"
import { instanceRewardResource } from "./rl/instance-reward.ts"
import { rlPromptsStage } from "./rl/prompts-stage.ts"

export * from "./errors.ts"
export * from "./options.ts"
export * from "./random.ts"
export * from "./seeds/SeedTask.ts"
export * from "./seeds/readSeeds.ts"
export * from "./seeds/fetchPinned.ts"
export * from "./seeds/SeedSource.ts"
export * from "./bootstrap/options.ts"
export * from "./bootstrap/prompt.ts"
export * from "./bootstrap/parse.ts"
export * from "./bootstrap/filters.ts"
export * from "./bootstrap/promptSampler.ts"
export * from "./bootstrap/engine.ts"
export { bootstrapStage } from "./bootstrap/stage.ts"
export * from "./classify/options.ts"
export * from "./classify/prompt.ts"
export * from "./classify/decide.ts"
export { classifyStage } from "./classify/stage.ts"
export * from "./instances/options.ts"
export * from "./instances/templates.ts"
export * from "./instances/parse.ts"
export * from "./instances/filters.ts"
export * from "./instances/prompt.ts"
export * from "./instances/completion.ts"
export { instancesStage } from "./instances/stage.ts"
export * from "./export/options.ts"
export * from "./export/provenance.ts"
export * from "./export/card.ts"
export { exportHfStage } from "./export/stage.ts"
export * from "./rl/prompts-stage.ts"
export * from "./rl/instance-reward.ts"
export * from "./resume.ts"

/** The plugin manifest (`self-instruct/<component>` in recipes). */
export default definePlugin({
  name: "self-instruct",
  version: "0.1.3",
  description: "Self-Instruct instruction bootstrapping, classification identification and instance generation.",
  components: {
    bootstrap: bootstrapStage,
    classify: classifyStage,
    instances: instancesStage,
    "rl-prompts": rlPromptsStage,
    "instance-reward": instanceRewardResource,
    "export-hf": exportHfStage
  }
})
