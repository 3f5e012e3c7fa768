/**
 * Writes a run's report — `report.md`, `report.html`, `report.json` in the run folder — from
 * its manifest and folder. The run engine calls it at the end of every run and resume
 * (completed, failed or interrupted); `refine-af report <run-dir>` calls it for any run folder.
 *
 * @example
 * ```ts
 * import { readManifestFile, writeRunReport } from "@refine-af/core"
 * const runDir = "runs/quickstart-20260124-101500-a3f9"
 * const { html } = writeRunReport(runDir, readManifestFile(runDir))
 * ```
 */
import * as path from "node:path"
import { writeFileAtomic } from "../run/fs-atomic.ts"
import type { RunManifest } from "../run/manifest.ts"
import { runFiles } from "../run/run-dir.ts"
import { collectRunReport } from "./collect.ts"
import { reportHtml } from "./html.ts"
import { reportMarkdown } from "./markdown.ts"
import type { RunReport } from "./schema.ts"

/** Paths of the three report files of a run folder. */
export const runReportPaths = (runDir: string) => ({
  markdown: path.join(runDir, runFiles.report),
  html: path.join(runDir, runFiles.reportHtml),
  json: path.join(runDir, runFiles.reportJson)
})

/** Builds the report and writes its three files atomically (throws on I/O failure). */
export const writeRunReport = (runDir: string, manifest: RunManifest): { readonly report: RunReport; readonly markdown: string; readonly html: string; readonly json: string } => {
  const report = collectRunReport(runDir, manifest)
  const paths = runReportPaths(runDir)
  // Not fsynced: the report is rebuilt from the run folder whenever needed.
  writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`, { sync: false })
  writeFileAtomic(paths.markdown, reportMarkdown(report), { sync: false })
  writeFileAtomic(paths.html, reportHtml(report), { sync: false })
  return { report, ...paths }
}
