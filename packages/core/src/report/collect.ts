/**
 * Builds the run report's data from a run folder: the manifest (stages, status, cache hits,
 * records, times, metrics), each stage's report material (`conventions.ts`), the warnings in
 * `events.jsonl` and the outputs. Unreadable material becomes a line under `problems`, never
 * a failure: a report is written for every run, damaged or not.
 */
import { Result, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { RunManifest } from "../run/manifest.ts"
import { runFiles } from "../run/run-dir.ts"
import { reportFiles, StageReportData, TablesFile, type ReportTable } from "./conventions.ts"
import { listRunOutputs } from "./outputs.ts"
import { curvesOf, samplesOf } from "./material.ts"
import type { RunReport, StageReport } from "./schema.ts"

/** Files larger than this are not read for the report (a hand-made giant file must not stall the end of a run). */
const maxMaterialBytes = 16 * 1024 * 1024
/** Warnings kept from `events.jsonl`. */
const maxWarnings = 50

const readIfPresent = (file: string, problems: Array<string>): string | undefined => {
  try {
    if (!fs.existsSync(file)) return undefined
    if (fs.statSync(file).size > maxMaterialBytes) {
      problems.push(`${file}: larger than ${maxMaterialBytes >> 20} MiB, not read`)
      return undefined
    }
    return fs.readFileSync(file, "utf8")
  } catch (cause) {
    problems.push(`${file}: ${cause instanceof Error ? cause.message : String(cause)}`)
    return undefined
  }
}

/** Non-empty lines parsed as JSON; a bad line is a problem, the rest is kept. */
export const parseJsonLines = (text: string, file: string, problems: Array<string>): Array<unknown> =>
  text.split("\n").flatMap((line, index) => {
    if (line.trim() === "") return []
    try {
      return [JSON.parse(line) as unknown]
    } catch {
      problems.push(`${file}:${index + 1}: not JSON, skipped`)
      return []
    }
  })

const decoded = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, value: unknown, what: string, problems: Array<string>): S["Type"] | undefined => {
  const result = Schema.decodeUnknownResult(schema)(value)
  if (Result.isSuccess(result)) return result.success
  problems.push(`${what}: unexpected shape (${String(result.failure).split("\n")[0]})`)
  return undefined
}

const stageReport = (runDir: string, name: string, stage: RunManifest["stages"][string], problems: Array<string>): StageReport => {
  const dir = path.join(runDir, runFiles.stages, name)
  const tables: Array<ReportTable> = []
  const tablesPath = path.join(dir, reportFiles.tables)
  const tablesText = readIfPresent(tablesPath, problems)
  if (tablesText !== undefined) {
    try {
      tables.push(...(decoded(TablesFile, JSON.parse(tablesText), tablesPath, problems)?.tables ?? []))
    } catch {
      problems.push(`${tablesPath}: not JSON, skipped`)
    }
  }
  const data = stage.data?.["report"] === undefined ? undefined : decoded(StageReportData, stage.data["report"], `manifest stage ${name} data.report`, problems)
  tables.push(...(data?.tables ?? []))
  const curvesPath = path.join(dir, reportFiles.curves)
  const curvesText = readIfPresent(curvesPath, problems)
  const samplesPath = path.join(dir, reportFiles.samples)
  const samplesText = readIfPresent(samplesPath, problems)
  const sampleRows = [...(samplesText === undefined ? [] : parseJsonLines(samplesText, samplesPath, problems)), ...(data?.samples ?? [])]
  return {
    name,
    component: stage.componentId,
    status: stage.status,
    cacheHit: stage.status === "cached",
    records: stage.records ?? null,
    durationMs: stage.durationMs ?? null,
    ...(stage.error === undefined ? {} : { error: stage.error }),
    metrics: Object.entries(stage.metrics ?? {}).map(([metric, value]) => ({ name: metric, value })),
    tables,
    curves: curvesText === undefined ? [] : curvesOf(parseJsonLines(curvesText, curvesPath, problems)),
    samples: samplesOf(sampleRows)
  }
}

const warningsOf = (runDir: string, problems: Array<string>): RunReport["warnings"] => {
  const file = path.join(runDir, runFiles.events)
  const text = readIfPresent(file, problems)
  if (text === undefined) return []
  const warnings = parseJsonLines(text, file, []).flatMap((event) => {
    if (event === null || typeof event !== "object") return []
    const { type, stage, message } = event as Record<string, unknown>
    if (type !== "warning" || typeof message !== "string") return []
    return [{ ...(typeof stage === "string" ? { stage } : {}), message }]
  })
  // A stage that warned, was killed and ran again warns again: the report says each thing once.
  const seen = new Set<string>()
  const distinct = warnings.filter((warning) => {
    const key = `${warning.stage ?? ""}\u0000${warning.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  return distinct.slice(-maxWarnings)
}

/** The report of the run in `runDir` as data (see `RunReport`). */
export const collectRunReport = (runDir: string, manifest: RunManifest): RunReport => {
  const problems: Array<string> = []
  const stages = Object.entries(manifest.stages).map(([name, stage]) => stageReport(runDir, name, stage, problems))
  let outputs: RunReport["outputs"] = []
  try {
    outputs = listRunOutputs(runDir, manifest)
  } catch (cause) {
    problems.push(`listing outputs: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  return {
    formatVersion: 1,
    run: {
      id: manifest.runId,
      recipe: manifest.name,
      recipeFile: manifest.recipeFile,
      status: manifest.status,
      seed: manifest.seed,
      startedAt: manifest.startedAt,
      ...(manifest.endedAt === undefined ? {} : { endedAt: manifest.endedAt }),
      attempts: manifest.attempts.length,
      cacheHits: stages.filter((stage) => stage.cacheHit).length,
      ...(manifest.gitCommit === undefined ? {} : { gitCommit: manifest.gitCommit }),
      ...(manifest.error === undefined ? {} : { error: manifest.error })
    },
    stages,
    resources: Object.entries(manifest.resources ?? {}).map(([name, resource]) => ({
      name,
      component: resource.componentId,
      builtFrom: [...(resource.builtFrom ?? [])],
      uses: [...(resource.uses ?? [])],
      made: resource.made === true
    })),
    outputs,
    warnings: warningsOf(runDir, problems),
    problems
  }
}
