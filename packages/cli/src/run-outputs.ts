/**
 * What a run produced, by kind, for the summary: datasets (JSONL files a stage wrote besides
 * its record stream), adapters (folders holding `adapter_config.json`) and reports (HTML and
 * Markdown), each with its path as the user should type it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { runFiles, stageDirOf, type RunManifest } from "@refine-af/core"

/** One output a stage left in its folder. */
export interface RunOutput {
  readonly kind: "dataset" | "adapter" | "report"
  readonly stage?: string
  readonly path: string
}

const shown = (file: string) => {
  const relative = path.relative(process.cwd(), file)
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative
}

const walk = (dir: string, depth: number): Array<string> => {
  if (depth > 3 || !fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith(".")) return []
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? [full, ...walk(full, depth + 1)] : [full]
  })
}

/** The datasets, adapters and reports of a run, stage by stage, then the run's own report. */
export const runOutputs = (runDir: string, manifest: RunManifest): Array<RunOutput> => {
  const outputs: Array<RunOutput> = []
  for (const [stage, entry] of Object.entries(manifest.stages)) {
    if (entry.status !== "completed" && entry.status !== "cached") continue
    for (const file of walk(stageDirOf(runDir, stage), 0)) {
      const name = path.basename(file)
      const isDir = fs.statSync(file).isDirectory()
      if (isDir && fs.existsSync(path.join(file, "adapter_config.json"))) outputs.push({ kind: "adapter", stage, path: shown(file) })
      else if (!isDir && /\.(html|md)$/.test(name) && name !== "README.md") outputs.push({ kind: "report", stage, path: shown(file) })
      else if (!isDir && name.endsWith(".jsonl") && name !== "records.jsonl" && fs.statSync(file).size > 0) outputs.push({ kind: "dataset", stage, path: shown(file) })
    }
  }
  const report = path.join(runDir, runFiles.report)
  if (fs.existsSync(report)) outputs.push({ kind: "report", path: shown(report) })
  return outputs
}
