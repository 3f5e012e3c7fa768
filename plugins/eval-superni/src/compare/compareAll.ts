/**
 * Compares each candidate run against one baseline and renders the report
 * files; shared by the `superni/compare` stage and `refine-af compare`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { compareAgainstBaseline, defaultCompareOptions } from "@refine-af/eval-superni"
 * declare const baseline: import("@refine-af/eval-superni").RunPredictions
 * declare const rlaf: import("@refine-af/eval-superni").RunPredictions
 * const files = compareAgainstBaseline(baseline, [rlaf], defaultCompareOptions)
 * ```
 */
import { Effect } from "effect"
import type { PredictionsMismatch } from "../errors.ts"
import { comparisonHtml, comparisonMarkdown } from "../report/comparisonReport.ts"
import { compareRuns, type CompareOptions, type RunComparison, type RunPredictions } from "./compareRuns.ts"

/** Defaults: ROUGE-L (the paper's headline), 2000 resamples over tasks and instances, 95% intervals. */
export const defaultCompareOptions: CompareOptions = {
  metric: "rougeL",
  resamples: 2000,
  seed: 0,
  confidence: 0.95,
  resampleInstances: true,
  tieTolerance: 1e-9
}

/** The comparisons and their rendered files (`report.md`, `report.html`, `comparison.json`). */
export interface ComparisonOutput {
  readonly comparisons: ReadonlyArray<RunComparison>
  readonly files: Readonly<Record<string, string>>
}

/** Compares every candidate with the baseline (same options and seed for each pair). */
export const compareAgainstBaseline = (
  baseline: RunPredictions,
  candidates: ReadonlyArray<RunPredictions>,
  options: CompareOptions
): Effect.Effect<ComparisonOutput, PredictionsMismatch> =>
  Effect.forEach(candidates, (candidate) => compareRuns(baseline, candidate, options)).pipe(
    Effect.map((comparisons) => ({
      comparisons,
      files: {
        "report.md": comparisonMarkdown(comparisons),
        "report.html": comparisonHtml(comparisons),
        "comparison.json": `${JSON.stringify({ kind: "superni/compare", comparisons }, null, 2)}\n`
      }
    }))
  )
