/**
 * @refine-af/eval-superni — Super-NaturalInstructions evaluation: task readers
 * (natural-instructions folders + split files, compact JSONL), prompt
 * encodings, official-parity metrics and reporting convention, paired
 * bootstrap comparison, and self-contained Markdown/HTML reports.
 */
import { superniPlugin } from "./plugin.ts"

export default superniPlugin
export { superniPlugin }
export * from "./errors.ts"
export * from "./data/task.ts"
export { parseSplit, readTaskDir, type TaskDirOptions } from "./data/readTaskDir.ts"
export { parseTaskJsonl, readTaskJsonl, type TaskJsonlOptions } from "./data/readTaskJsonl.ts"
export * from "./prompt/template.ts"
export * from "./prompt/fitPrompt.ts"
export * from "./metrics/instance.ts"
export * from "./metrics/pythonRound.ts"
export * from "./metrics/categories.ts"
export * from "./metrics/aggregate.ts"
export * from "./metrics/prediction.ts"
export * from "./generation/predict.ts"
export * from "./compare/random.ts"
export * from "./compare/bootstrap.ts"
export * from "./compare/compareRuns.ts"
export * from "./compare/compareAll.ts"
export { evaluationHtml, evaluationMarkdown, type EvaluationHeader } from "./report/evaluationReport.ts"
export { comparisonHtml, comparisonMarkdown } from "./report/comparisonReport.ts"
export { writeArtifacts } from "./report/writeArtifacts.ts"
export { loadTasks, type TaskSourceOptions } from "./stages/loadTasks.ts"
export { bundledTaskSet } from "./stages/options.ts"
export { EvaluateOptions, evaluateStage, evaluationKind } from "./stages/evaluate.ts"
export { CompareStageOptions, compareStage, readPredictions } from "./stages/compare.ts"
export { PredictionsOptions, predictionsStage } from "./stages/predictions.ts"
