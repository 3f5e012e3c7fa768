/**
 * What a dataset card says about where the rows came from, gathered from the
 * rows' own lineage (models, prompt templates, sampling, per-task filter
 * decisions) plus the run's seed and the upstream content hash.
 *
 * @example
 * ```ts
 * import { provenanceOf } from "./provenance.ts"
 * provenanceOf([{ instruction: "a", input: "", output: "b", lineage: { model: "m", task_index: 0 } }], { seed: 1, upstreamStage: "dataset", upstreamHash: "h" }).models // ["m"]
 * ```
 */
import type { JsonRecord } from "@refine-af/core"

/** The provenance block of the card (also written as provenance.json). */
export interface Provenance {
  readonly rows: number
  readonly instructions: number
  readonly models: ReadonlyArray<string>
  readonly templates: ReadonlyArray<string>
  readonly sampling: ReadonlyArray<JsonRecord>
  readonly seed: number
  readonly upstreamStage: string
  readonly upstreamHash: string
  /** Instance filter decisions summed over tasks: parsed, unparsable, kept, rejected by reason. */
  readonly instanceFilters: Record<string, number>
}

const lineageOf = (row: JsonRecord): JsonRecord => (typeof row["lineage"] === "object" && row["lineage"] !== null && !Array.isArray(row["lineage"]) ? row["lineage"] as JsonRecord : {})

/** Collects provenance from rows (order of first appearance; per-task filter decisions counted once per task). */
export const provenanceOf = (rows: ReadonlyArray<JsonRecord>, run: { seed: number; upstreamStage: string; upstreamHash: string }): Provenance => {
  const models = new Set<string>()
  const templates = new Set<string>()
  const sampling = new Map<string, JsonRecord>()
  const instructions = new Set<string>()
  const seenTasks = new Set<string>()
  const filters: Record<string, number> = {}
  for (const row of rows) {
    const lineage = lineageOf(row)
    if (typeof row["instruction"] === "string") instructions.add(row["instruction"])
    if (typeof lineage["model"] === "string") models.add(lineage["model"])
    if (typeof lineage["template"] === "string") templates.add(lineage["template"])
    const params = lineage["sampling"]
    if (typeof params === "object" && params !== null && !Array.isArray(params)) {
      const { seed: _seed, ...shared } = params as JsonRecord
      sampling.set(JSON.stringify(shared), shared)
    }
    const task = String(lineage["task_index"] ?? "")
    const decisions = lineage["filters"]
    if (task !== "" && !seenTasks.has(task) && typeof decisions === "object" && decisions !== null && !Array.isArray(decisions)) {
      seenTasks.add(task)
      for (const [key, value] of Object.entries(decisions as JsonRecord)) {
        if (typeof value === "number") filters[key] = (filters[key] ?? 0) + value
        else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
          for (const [reason, count] of Object.entries(value as JsonRecord)) if (typeof count === "number") filters[`rejected_${reason}`] = (filters[`rejected_${reason}`] ?? 0) + count
        }
      }
    }
  }
  return {
    rows: rows.length,
    instructions: instructions.size,
    models: [...models],
    templates: [...templates],
    sampling: [...sampling.values()],
    seed: run.seed,
    upstreamStage: run.upstreamStage,
    upstreamHash: run.upstreamHash,
    instanceFilters: filters
  }
}
