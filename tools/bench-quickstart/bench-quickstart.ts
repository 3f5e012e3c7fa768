/**
 * Quickstart benchmark: `refine-af run recipes/quickstart.yaml` through the
 * real CLI, in one session, four ways side by side:
 *
 *   cold        fresh models and cache folders (writes the built-in model)
 *   warm        model already written, fresh stage cache
 *   cache hits  same stage cache again (every stage is a hit)
 *   top-p 0.5   warm, but the bootstrap samples with the paper's top-p 0.5
 *               instead of the recipe's 1 (a full-vocabulary sort per token)
 *
 * Prints a table (wall time, per-stage times, bootstrap acceptance counts,
 * ratios to "warm") and writes bench-results/quickstart.json.
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

interface Row {
  readonly name: string
  readonly wallSeconds: number
  readonly stageSeconds: Record<string, number>
  readonly cacheHits: number
  readonly bootstrap: Record<string, number>
}

const run = (name: string, modelsDir: string, cacheDir: string, overrides: ReadonlyArray<string> = []): Row => {
  const runsDir = temp("runs")
  const started = performance.now()
  const result = spawnSync(process.execPath, [bin, "run", "recipes/quickstart.yaml", ...overrides, "--runs-dir", runsDir, "--cache-dir", cacheDir], {
    cwd: repoRoot,
    env: { ...process.env, REFINE_AF_MODELS: modelsDir },
    encoding: "utf8"
  })
  const wallSeconds = (performance.now() - started) / 1000
  if (result.status !== 0) throw new Error(`${name}: refine-af exited ${result.status}\n${result.stderr}`)
  const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
  const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as {
    stages: Record<string, { durationMs?: number; cacheHit?: boolean; metrics?: Record<string, number> }>
  }
  const stageSeconds = Object.fromEntries(Object.entries(manifest.stages).map(([stage, entry]) => [stage, (entry.durationMs ?? 0) / 1000]))
  const hits = /cache hits: (\d+)\//.exec(result.stdout)
  fs.rmSync(runsDir, { recursive: true, force: true })
  return { name, wallSeconds, stageSeconds, cacheHits: hits ? Number(hits[1]) : 0, bootstrap: manifest.stages["instructions"]?.metrics ?? {} }
}

const modelsDir = temp("models")
const cacheDir = temp("cache")
const rows: Array<Row> = [
  run("cold", modelsDir, cacheDir),
  run("warm", modelsDir, temp("cache")),
  run("cache hits", modelsDir, cacheDir),
  run("top-p 0.5", modelsDir, temp("cache"), ["stages.instructions.sampling.topP=0.5"])
]
const warm = rows[1]!
const perReply = (row: Row): number | undefined =>
  row.cacheHits > 0 || !row.bootstrap["responses"] ? undefined : (1000 * (row.stageSeconds["instructions"] ?? 0)) / row.bootstrap["responses"]
const table = rows.map((row) => ({
  run: row.name,
  "wall s": row.wallSeconds.toFixed(1),
  "x warm": (row.wallSeconds / warm.wallSeconds).toFixed(2),
  "bootstrap s": (row.stageSeconds["instructions"] ?? 0).toFixed(1),
  "bootstrap x warm": ((row.stageSeconds["instructions"] ?? 0) / (warm.stageSeconds["instructions"] || 1)).toFixed(2),
  // Per reply, since top-p changes which replies stop early and how many steps run.
  "bootstrap ms/reply": perReply(row) === undefined ? "-" : perReply(row)!.toFixed(0),
  "ms/reply x warm": perReply(row) === undefined ? "-" : (perReply(row)! / perReply(warm)!).toFixed(2),
  "classify s": (row.stageSeconds["classified"] ?? 0).toFixed(1),
  "instances s": (row.stageSeconds["dataset"] ?? 0).toFixed(1),
  "evaluate s": (row.stageSeconds["evaluation"] ?? 0).toFixed(1),
  "cache hits": row.cacheHits,
  "accepted/candidates/responses": `${row.bootstrap["accepted"] ?? "-"}/${row.bootstrap["candidates"] ?? "-"}/${row.bootstrap["responses"] ?? "-"}`
}))
console.table(table)
const out = path.join(repoRoot, "bench-results", "quickstart.json")
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, JSON.stringify({
  benchmark: "quickstart",
  measuredAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, loadAverage: os.loadavg(), node: process.version },
  notes: "Same session, same machine; cache hits reuse the cold run's cache. Bootstrap seconds under top-p 0.5 cover other replies (other stops, fewer steps before the idle limit): compare ms/reply.",
  rows,
  table
}, null, 2) + "\n")
fs.rmSync(modelsDir, { recursive: true, force: true })
console.log(`wrote ${path.relative(repoRoot, out)}`)
