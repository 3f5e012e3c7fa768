/**
 * `@refine-af/reward-model` (manifest name `reward-model`): `reward-model/hf`,
 * Hugging Face reward models as `Scorer`s on the compute core.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/backend-onnx", "@refine-af/reward-model"]
 * resources:
 *   compute: { _component_: backend-onnx/onnx }
 *   rm: { _component_: reward-model/hf, backend: compute, path: models/oasst-rm-2.1-pythia-1.4b-epoch-2.5 }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { hf } from "./resource.ts"

export { hf }
export { RewardModelResourceOptions } from "./resource.ts"
export { checkRewardModelFolder } from "./folder-check.ts"
export { loadScoringModel, type ScoringModel, ScoringModelError } from "./architectures.ts"
export { makeRewardModelScorer, type RewardModelOptions } from "./scorer.ts"
export { CHAT_TEMPLATE, oasstTemplate, promptOf, renderTemplate } from "./template.ts"

/** The plugin manifest (`plugins: ["@refine-af/reward-model"]` in a recipe). */
export default definePlugin({
  name: "reward-model",
  version: "0.1.0",
  description: "reward-model/hf: Hugging Face reward models (OpenAssistant GPT-NeoX RMs) as Scorers",
  components: { hf }
})
