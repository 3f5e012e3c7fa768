/**
 * `@refine-af/trainer-sft`: supervised fine-tuning with LoRA on any
 * `PolicyModel` (recipe component `sft/lora`).
 */
import { definePlugin } from "@refine-af/core"
import { sftStage } from "./stage.ts"

export * from "./options.ts"
export * from "./schedule.ts"
export * from "./dataset.ts"
export * from "./batches.ts"
export * from "./errors.ts"
export { sftStage } from "./stage.ts"

export default definePlugin({
  name: "sft",
  version: "0.1.1",
  description: "Supervised fine-tuning with LoRA",
  components: { lora: sftStage }
})
