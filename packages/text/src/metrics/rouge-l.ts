import { emptyReferences } from "../errors.ts"
import { lcsLengthDP } from "../lcs/lcs-dp.ts"
import { type RougeLScore, rougeLFromLcs } from "./rouge-l-formula.ts"
import { type RougeOptions, rougeTokenize } from "./rouge-tokenize.ts"

/**
 * ROUGE-L of a prediction against one target, bit-identical to
 * `RougeScorer(["rougeL"], use_stemmer=stem).score(target, prediction)["rougeL"]`.
 *
 * @example
 * ```ts
 * import { rougeL } from "@refine-af/text"
 * rougeL("the cat sat", "the cat sat down").fmeasure // 0.8571428571428571
 * ```
 */
export const rougeL = (prediction: string, target: string, options?: RougeOptions): RougeLScore => {
  const predictionTokens = rougeTokenize(prediction, options)
  const targetTokens = rougeTokenize(target, options)
  return rougeLFromLcs(lcsLengthDP(predictionTokens, targetTokens), predictionTokens.length, targetTokens.length)
}

/**
 * Max ROUGE-L F-measure over references (SuperNI's `metric_max_over_ground_truths`). Throws
 * `EmptyReferencesError` on an empty list, like Python's `max([])`.
 *
 * @example
 * ```ts
 * import { rougeLMax } from "@refine-af/text"
 * rougeLMax("Paris", ["paris", "Paris, France"], { stem: true }) // 1
 * ```
 */
export const rougeLMax = (prediction: string, references: ReadonlyArray<string>, options?: RougeOptions): number => {
  if (references.length === 0) throw emptyReferences("rougeLMax")
  const predictionTokens = rougeTokenize(prediction, options)
  let best = -Infinity
  for (const reference of references) {
    const targetTokens = rougeTokenize(reference, options)
    const lcs = lcsLengthDP(predictionTokens, targetTokens)
    best = Math.max(best, rougeLFromLcs(lcs, predictionTokens.length, targetTokens.length).fmeasure)
  }
  return best
}
