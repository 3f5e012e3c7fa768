/**
 * @refine-af/generator-self-instruct — Self-Instruct data generation as recipe
 * stages: `self-instruct/bootstrap` (instruction bootstrapping),
 * `self-instruct/classify` (classification identification) and
 * `self-instruct/instances` (input-first / output-first instance generation).
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
export * from "./bootstrap/instructionPool.ts"
export * from "./bootstrap/promptSampler.ts"
export * from "./bootstrap/engine.ts"
export { bootstrapStage } from "./bootstrap/stage.ts"

/** The plugin manifest (`self-instruct/<component>` in recipes). */
export default definePlugin({
  name: "self-instruct",
  version: "0.1.0",
  description: "Self-Instruct instruction bootstrapping, classification identification and instance generation.",
  components: {
    bootstrap: bootstrapStage
  }
})
