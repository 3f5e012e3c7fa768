/**
 * The official SuperNI reporting convention: each task is reported with one
 * metric chosen by its (first) category. Classification-like categories use
 * exact match; generation categories use ROUGE-L. The table lists the 12
 * categories of the 119-task default test split as the official scoring scripts
 * do; any other category falls back to ROUGE-L, the benchmark's headline metric.
 *
 * @example
 * ```ts
 * import { officialMetricFor } from "@refine-af/eval-superni"
 * officialMetricFor("Textual Entailment") // "exactMatch"
 * ```
 */

/** The metric a task or category is reported with. */
export type MetricName = "rougeL" | "exactMatch"

const exactMatchCategories = [
  "Textual Entailment",
  "Cause Effect Classification",
  "Coreference Resolution",
  "Dialogue Act Recognition",
  "Answerability Classification",
  "Word Analogy"
] as const

const rougeLCategories = [
  "Overlap Extraction",
  "Keyword Tagging",
  "Question Rewriting",
  "Title Generation",
  "Data to Text",
  "Grammar Error Correction"
] as const

/** The official category names, lowercased with underscores as the scripts key them (`textual_entailment`). */
export const categoryKey = (category: string): string => category.toLowerCase().split(/\s+/).filter(Boolean).join("_")

const officialTable: ReadonlyMap<string, MetricName> = new Map([
  ...exactMatchCategories.map((category) => [categoryKey(category), "exactMatch"] as const),
  ...rougeLCategories.map((category) => [categoryKey(category), "rougeL"] as const)
])

/** The reporting metric of a category under the official convention (ROUGE-L when unlisted). */
export const officialMetricFor = (category: string): MetricName => officialTable.get(categoryKey(category)) ?? "rougeL"

/** True when the category appears in the official table (as opposed to the ROUGE-L fallback). */
export const isOfficialCategory = (category: string): boolean => officialTable.has(categoryKey(category))
