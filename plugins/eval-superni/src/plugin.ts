/**
 * The `superni` plugin manifest: `superni/evaluate`, `superni/compare` and
 * `superni/predictions` (a finished evaluation imported from another run).
 *
 * @example
 * ```ts
 * import superni from "@refine-af/eval-superni"
 * Object.keys(superni.components) // ["evaluate", "compare", "predictions"]
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { compareStage } from "./stages/compare.ts"
import { evaluateStage } from "./stages/evaluate.ts"
import { predictionsStage } from "./stages/predictions.ts"

/** The plugin manifest (default export of the package). */
export const superniPlugin = definePlugin({
  name: "superni",
  version: "0.1.2",
  description: "Super-NaturalInstructions evaluation with official-metric parity and paired per-task comparison reports",
  components: {
    evaluate: evaluateStage,
    compare: compareStage,
    predictions: predictionsStage
  }
})
