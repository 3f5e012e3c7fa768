/**
 * Quickstart benchmark: `refine-af run recipes/quickstart.yaml` (the whole
 * REFINE-AF loop on the built-in model) through the real CLI, side by side in
 * one session:
 *
 *   cold        fresh cache folder: every stage runs (the goal: ≤ 3 min on 2 cores)
 *   cache hits  the same cache again: every stage is a hit
 *
 * Prints per-stage seconds for each row, the ratio of each stage to the cold
 * total, and what the cold run produced (PPO reward first/last third, SFT loss
 * first/last half, the paired comparison), and writes
 * bench-results/quickstart.json with the load average before and after.
 *
 * Run:   npx tsx tools/bench-quickstart/bench-quickstart.ts
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const bin = path.join(repoRoot, "packages/cli/bin/refine-af.js")
const temp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `refine-af-bench-quickstart-${name}-`))

interface Outcome {
  readonly rewardFirstThird: number
  readonly rewardLastThird: number
  readonly sftLoss: Record<string, { readonly firstHalf: number; readonly lastHalf: number }>
  readonly datasetRows: Record<string, number>
  readonly comparison: string
}
interface Row {
  readonly name: string
  readonly wallSeconds: number
  readonly stageSeconds: Record<string, number>
  readonly cacheHits: number
  readonly outcome?: Outcome
}

const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
const records = (runDir: string, stage: string): Array<Record<string, unknown>> => {
  const text = fs.readFileSync(path.join(runDir, "stages", stage, "records.jsonl"), "utf8").trimEnd()
  return text === "" ? [] : text.split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
}

const outcomeOf = (runDir: string): Outcome => {
  const rewards = records(runDir, "ppo").map((r) => r["reward_mean"] as number)
  const third = Math.max(1, Math.floor(rewards.length / 3))
  const sftLoss = Object.fromEntries(["sft_rlaf", "sft_base"].map((arm) => {
    const losses = records(runDir, arm).map((r) => r["loss"] as number)
    const half = Math.max(1, Math.floor(losses.length / 2))
    return [arm, { firstHalf: mean(losses.slice(0, half)), lastHalf: mean(losses.slice(-half)) }]
  }))
  const report = fs.readFileSync(path.join(runDir, "stages", "compare", "report.md"), "utf8")
  return {
    rewardFirstThird: mean(rewards.slice(0, third)),
    rewardLastThird: mean(rewards.slice(-third)),
    sftLoss,
    datasetRows: { dataset_rlaf: records(runDir, "dataset_rlaf").length, dataset_base: records(runDir, "dataset_base").length },
    comparison: /\*\*eval_rlaf\*\* vs \*\*eval_base\*\*[^\n]*/.exec(report)?.[0] ?? "(no comparison line)"
  }
}

const run = (name: string, cacheDir: string): Row => {
  const runsDir = temp("runs")
  const started = performance.now()
  const result = spawnSync(process.execPath, [bin, "run", "recipes/quickstart.yaml", "--runs-dir", runsDir, "--cache-dir", cacheDir], { cwd: repoRoot, encoding: "utf8" })
  const wallSeconds = (performance.now() - started) / 1000
  if (result.status !== 0) throw new Error(`${name}: refine-af exited ${result.status}\n${result.stdout}\n${result.stderr}`)
  const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
  const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as { stages: Record<string, { durationMs?: number }> }
  const stageSeconds = Object.fromEntries(Object.entries(manifest.stages).map(([stage, entry]) => [stage, (entry.durationMs ?? 0) / 1000]))
  const hits = /cache hits: (\d+)\//.exec(result.stdout)
  const cacheHits = hits ? Number(hits[1]) : 0
  const row = { name, wallSeconds, stageSeconds, cacheHits, ...(cacheHits === 0 ? { outcome: outcomeOf(runDir) } : {}) }
  fs.rmSync(runsDir, { recursive: true, force: true })
  return row
}

const loadBefore = os.loadavg()
const cacheDir = temp("cache")
const rows: Array<Row> = [run("cold", cacheDir), run("cache hits", cacheDir)]
const loadAfter = os.loadavg()
fs.rmSync(cacheDir, { recursive: true, force: true })

const cold = rows[0]!
const stages = Object.keys(cold.stageSeconds)
console.table(stages.map((stage) => ({
  stage,
  "cold s": cold.stageSeconds[stage]!.toFixed(1),
  "share of cold": (cold.stageSeconds[stage]! / cold.wallSeconds).toFixed(2),
  "cache-hit s": (rows[1]!.stageSeconds[stage] ?? 0).toFixed(1)
})))
console.table(rows.map((row) => ({ run: row.name, "wall s": row.wallSeconds.toFixed(1), "x cold": (row.wallSeconds / cold.wallSeconds).toFixed(2), "cache hits": row.cacheHits })))
const o = cold.outcome!
console.log(`PPO reward: first third ${o.rewardFirstThird.toFixed(3)} → last third ${o.rewardLastThird.toFixed(3)}`)
for (const [arm, l] of Object.entries(o.sftLoss)) console.log(`${arm} loss: first half ${l.firstHalf.toFixed(3)} → last half ${l.lastHalf.toFixed(3)}`)
console.log(`dataset rows: ${JSON.stringify(o.datasetRows)}\n${o.comparison}`)
console.log(`load average before ${loadBefore.map((x) => x.toFixed(2)).join(" ")}, after ${loadAfter.map((x) => x.toFixed(2)).join(" ")}`)

const out = path.join(repoRoot, "bench-results", "quickstart.json")
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, JSON.stringify({
  benchmark: "quickstart",
  recipe: "recipes/quickstart.yaml",
  goal: "cold ≤ 180 s on 2 CPU cores (issue 12)",
  measuredAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, node: process.version },
  rows
}, null, 2) + "\n")
console.log(`wrote ${path.relative(repoRoot, out)}`)
