/**
 * What a run produced, by kind, for the summary: datasets, adapters and reports (found by
 * `listRunOutputs` in core), each with its path as the user should type it, then the run's
 * own report.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { listRunOutputs, runFiles, type RunManifest } from "@refine-af/core"

/** One output a stage left in its folder. */
export interface RunOutput {
  readonly kind: "dataset" | "adapter" | "model" | "report"
  readonly stage?: string
  readonly path: string
}

/** A path as the user should type it: relative when under the cwd, absolute otherwise. */
export const shownPath = (file: string): string => {
  const relative = path.relative(process.cwd(), file)
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative
}

/** The datasets, adapters and reports of a run, stage by stage, then the run report (HTML, Markdown, JSON). */
export const runOutputs = (runDir: string, manifest: RunManifest): Array<RunOutput> => {
  const outputs: Array<RunOutput> = listRunOutputs(runDir, manifest).map((output) => ({ ...output, path: shownPath(path.resolve(runDir, output.path)) }))
  for (const file of [runFiles.reportHtml, runFiles.report, runFiles.reportJson]) {
    const report = path.join(runDir, file)
    if (fs.existsSync(report)) outputs.push({ kind: "report", path: shownPath(report) })
  }
  return outputs
}
