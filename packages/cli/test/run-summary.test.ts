import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { RunManifest } from "@refine-af/core"
import { printRunSummary } from "../src/run-summary.ts"

const stage = (componentId: string, metrics?: Record<string, number>) => ({ status: "completed" as const, componentId, version: "1", cacheKey: "k", records: 10, durationMs: 1200, ...(metrics ? { metrics } : {}) })

const manifest = (): RunManifest => ({
  formatVersion: 1,
  runId: "paper-20260101-000000-abcd",
  name: "paper",
  recipeFile: "/r/paper.yaml",
  status: "completed",
  seed: 1,
  core: { name: "@refine-af/core", version: "0.1.0" },
  plugins: [],
  node: process.version,
  hostname: os.hostname(),
  platform: "linux-x64",
  cacheDir: "/c",
  cacheEnabled: true,
  startedAt: "2026-01-01T00:00:00.000Z",
  endedAt: "2026-01-01T01:00:00.000Z",
  attempts: [{ startedAt: "2026-01-01T00:00:00.000Z", status: "completed" }],
  stages: {
    export: stage("self-instruct/export"),
    sft: stage("sft/lora", { loss: 1.2345, steps: 300 }),
    evaluate: stage("eval-superni/evaluate", Object.fromEntries(Array.from({ length: 14 }, (_, k) => [`task_category_${k}_rougeL`, 0.123456 + k]))),
  },
  metrics: {}
})

const runDirWithOutputs = () => {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-summary-"))
  const at = (...parts: Array<string>) => path.join(runDir, "stages", ...parts)
  fs.mkdirSync(at("export", "data"), { recursive: true })
  fs.writeFileSync(at("export", "data", "train.jsonl"), '{"instruction":"x"}\n')
  fs.writeFileSync(at("export", "records.jsonl"), '{"a":1}\n')
  fs.mkdirSync(at("sft", "adapter"), { recursive: true })
  fs.writeFileSync(at("sft", "adapter", "adapter_config.json"), "{}")
  fs.mkdirSync(at("sft", "model"), { recursive: true })
  fs.writeFileSync(at("sft", "model", "config.json"), "{}")
  fs.writeFileSync(at("sft", "model", "model.safetensors"), "")
  fs.mkdirSync(at("evaluate"), { recursive: true })
  fs.writeFileSync(at("evaluate", "report.html"), "<html></html>")
  fs.writeFileSync(path.join(runDir, "report.md"), "# run")
  fs.writeFileSync(path.join(runDir, "report.json"), "{}")
  return runDir
}

describe("run summary", () => {
  it("names the dataset, adapter and report paths", () => {
    const runDir = runDirWithOutputs()
    // Wide: a long temp folder would otherwise wrap a label and its path onto two lines (wrapping is the next test's subject).
    const text = printRunSummary(runDir, manifest(), { wide: true })
    expect(text).toContain(`dataset (export): ${path.join(runDir, "stages/export/data/train.jsonl")}`)
    expect(text).toContain(`adapter (sft): ${path.join(runDir, "stages/sft/adapter")}`)
    expect(text).toContain(`model (sft): ${path.join(runDir, "stages/sft/model")}`)
    expect(text).toContain(`report (evaluate): ${path.join(runDir, "stages/evaluate/report.html")}`)
    expect(text).toContain(`report: ${path.join(runDir, "report.md")}`)
    expect(text).toContain(`report: ${path.join(runDir, "report.json")}`)
    expect(text).not.toContain("records.jsonl")
  })

  it("fits 100 columns (metrics wrap onto continuation rows) unless wide is asked for", () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-summary-"))
    const narrow = printRunSummary(runDir, manifest())
    expect(Math.max(...narrow.split("\n").map((line) => line.length))).toBeLessThanOrEqual(100)
    expect(narrow).toContain("task_category_13_rougeL=13.1235")
    const wide = printRunSummary(runDir, manifest(), { wide: true })
    expect(Math.max(...wide.split("\n").map((line) => line.length))).toBeGreaterThan(100)
    expect(wide.split("\n").filter((line) => line.startsWith("evaluate"))).toHaveLength(1)
  })

  it("keeps the stage table's columns intact when metrics wrap (no blank or re-wrapped table rows)", () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-summary-"))
    const m = manifest()
    const long = Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`a_rather_long_metric_name_${k}`, k]))
    const wideStages = { ...m.stages, "a_long_stage_name_here": stage("self-instruct/rl-prompts-long", long) }
    const lines = printRunSummary(runDir, { ...m, stages: wideStages }).split("\n")
    const header = lines.findIndex((line) => line.startsWith("stage "))
    const metricsColumn = lines[header]!.indexOf("metrics")
    const tableEnd = lines.indexOf("", header)
    const body = lines.slice(header + 2, tableEnd === -1 ? undefined : tableEnd)
    expect(body.length).toBeGreaterThan(4)
    for (const line of body) {
      expect(line.trim().length, JSON.stringify(line)).toBeGreaterThan(0)
      // A continuation row is blank up to the metrics column, then a metric.
      if (line.startsWith(" ")) expect(line.slice(0, metricsColumn).trim(), JSON.stringify(line)).toBe("")
      if (line.startsWith(" ")) expect(line.slice(metricsColumn)).toMatch(/^[A-Za-z_0-9.]+=/)
    }
  })
})
