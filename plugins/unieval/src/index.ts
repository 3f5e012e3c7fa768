/**
 * `@refine-af/unieval` (manifest name `unieval`): `unieval/dialog`, UniEval's
 * dialogue evaluator on the compute core.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/backend-onnx", "@refine-af/unieval"]
 * resources:
 *   compute: { _component_: backend-onnx/onnx }
 *   unieval: { _component_: unieval/dialog, backend: compute, path: models/unieval-dialog }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { dialog } from "./resource.ts"

export { dialog }
export { UniEvalResourceOptions } from "./resource.ts"
export { checkUniEvalFolder } from "./folder-check.ts"
export { makeUniEvalScorer, type UniEvalOptions } from "./scorer.ts"

/** The plugin manifest (`plugins: ["@refine-af/unieval"]` in a recipe). */
export default definePlugin({
  name: "unieval",
  version: "0.1.0",
  description: "unieval/dialog: UniEval's dialogue evaluator (T5) as a Scorer",
  components: { dialog }
})
