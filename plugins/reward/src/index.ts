/**
 * `@refine-af/reward` (manifest name `reward`): composite rewards over other
 * scorers (`reward/composite`, with `preset: instructmining`), model-free
 * heuristic scorers (`reward/heuristics`), and a stage that scores samples
 * (`reward/score`).
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/reward"]
 * resources:
 *   checks: { _component_: reward/heuristics }
 *   reward: { _component_: reward/composite, heuristics: checks, terms: [{ scorer: heuristics, part: pass, weight: 1 }] }
 * stages:
 *   scored: { _component_: reward/score, path: samples.jsonl, scorer: reward }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { composite } from "./composite/composite.ts"
import { heuristics } from "./heuristics/heuristics.ts"
import { score } from "./stage/score-stage.ts"

export { composite, heuristics, score }
export { CompositeOptions, compositeSlots, makeCompositeScorer, resolveTerms, type CompositeSlot } from "./composite/composite.ts"
export { presets, type Preset } from "./composite/presets.ts"
export { combineTerms, makeTermState, type Normalisation, type Term, type TermState } from "./composite/terms.ts"
export { heuristicParts, heuristicScore, HeuristicsOptions, makeHeuristicsScorer, type HeuristicPart } from "./heuristics/heuristics.ts"
export { bracketsBalanced, copiesInput, type ExpectedFormat, formatValid, instructionOverlap, repetition, words } from "./heuristics/measures.ts"
export { parseSampleLines, SampleFileError, sampleOf, type SampleFields } from "./stage/read-samples.ts"
export { ScoreOptions } from "./stage/score-stage.ts"

/** The plugin manifest (`plugins: ["@refine-af/reward"]` in a recipe). */
export default definePlugin({
  name: "reward",
  version: "0.1.0",
  description: "Composite rewards (weights, bias, normalisation, InstructMining preset), heuristic scorers, and the reward/score stage",
  components: { composite, heuristics, score }
})
