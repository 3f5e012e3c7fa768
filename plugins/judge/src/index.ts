/**
 * `@refine-af/judge` (manifest name `judge`): `judge/lm`, UniEval's dialogue
 * questions asked to any `LanguageModel` via `score`.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/backend-onnx", "@refine-af/model-llama", "@refine-af/judge"]
 * resources:
 *   compute: { _component_: backend-onnx/onnx }
 *   lm: { _component_: llama/hf, backend: compute, builtin: speaker }
 *   judge: { _component_: judge/lm, model: lm }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { lm } from "./judge.ts"

export { lm }
export { defaultJudgeTemplate, JudgeOptions, type JudgeReporting, makeJudgeScorer } from "./judge.ts"
export { type Fitted, fitToContext } from "./fit.ts"

/** The plugin manifest (`plugins: ["@refine-af/judge"]` in a recipe). */
export default definePlugin({
  name: "judge",
  version: "0.1.0",
  description: "judge/lm: UniEval-style Yes/No questions asked to any LanguageModel",
  components: { lm }
})
