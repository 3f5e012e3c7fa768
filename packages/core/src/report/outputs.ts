/**
 * What a run produced, found in its stage folders: datasets (a record stream of instruction
 * records, or another JSONL file a stage wrote), adapters (folders holding
 * `adapter_config.json`), model folders (`config.json` and safetensors weights, e.g. a merged
 * model) and the stages' own reports (HTML and Markdown). Paths are relative
 * to the run folder.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { RunManifest } from "../run/manifest.ts"
import { runFiles } from "../run/run-dir.ts"
import { reportFiles } from "./conventions.ts"
import type { ReportOutput } from "./schema.ts"

const recordsFile = "records.jsonl"
const notDatasets = new Set<string>([recordsFile, reportFiles.curves, reportFiles.samples])

const walk = (dir: string, depth: number): Array<string> => {
  if (depth > 3 || !fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith(".")) return []
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? [full, ...walk(full, depth + 1)] : [full]
  })
}

/** The first line of a file (at most 64 KiB read), or undefined. */
const firstLine = (file: string): string | undefined => {
  let fd: number | undefined
  try {
    fd = fs.openSync(file, "r")
    const buffer = Buffer.alloc(64 * 1024)
    const read = fs.readSync(fd, buffer, 0, buffer.length, 0)
    const text = buffer.subarray(0, read).toString("utf8")
    const end = text.indexOf("\n")
    return end < 0 ? undefined : text.slice(0, end)
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** True when a record stream holds instruction-tuning records (`instruction` and `output` strings). */
const holdsInstructionData = (file: string): boolean => {
  const line = firstLine(file)
  if (line === undefined) return false
  try {
    const record = JSON.parse(line) as Record<string, unknown>
    return typeof record["instruction"] === "string" && typeof record["output"] === "string"
  } catch {
    return false
  }
}

/** The datasets, adapters and reports of a run's finished stages, stage by stage. */
export const listRunOutputs = (runDir: string, manifest: RunManifest): Array<ReportOutput> => {
  const outputs: Array<ReportOutput> = []
  for (const [stage, entry] of Object.entries(manifest.stages)) {
    if (entry.status !== "completed" && entry.status !== "cached") continue
    const stageDir = path.join(runDir, runFiles.stages, stage)
    for (const file of walk(stageDir, 0)) {
      const name = path.basename(file)
      const relative = path.relative(runDir, file)
      const isDir = fs.statSync(file).isDirectory()
      if (isDir) {
        if (fs.existsSync(path.join(file, "adapter_config.json"))) outputs.push({ kind: "adapter", stage, path: relative })
        else if (fs.existsSync(path.join(file, "config.json")) && fs.readdirSync(file).some((entry) => entry.endsWith(".safetensors"))) outputs.push({ kind: "model", stage, path: relative })
      } else if (/\.(html|md)$/.test(name) && name !== "README.md") outputs.push({ kind: "report", stage, path: relative })
      else if (name === recordsFile && path.dirname(file) === stageDir && holdsInstructionData(file)) outputs.push({ kind: "dataset", stage, path: relative })
      else if (name.endsWith(".jsonl") && !notDatasets.has(name) && fs.statSync(file).size > 0) outputs.push({ kind: "dataset", stage, path: relative })
    }
  }
  return outputs
}
