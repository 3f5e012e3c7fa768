/**
 * CLI start-up benchmark: `refine-af --help` from the repository's bin (registers tsx and
 * compiles the TypeScript sources on the fly; what `npx refine-af` runs in a checkout) against
 * the installed bin (`dist/bin/refine-af.js`, the built JavaScript `tools/pack` publishes),
 * alternating rounds in one session.
 *
 * The built packages are staged by `tools/pack` (the same build the published tarballs hold)
 * and laid out as an install would be: `node_modules/@refine-af/*` link to the staged packages,
 * every other package links to the repository's node_modules (no registry needed).
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
import { packWorkspace } from "../pack/pack.ts"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const roundsFlag = process.argv.indexOf("--rounds")
const rounds = roundsFlag > 0 ? Number(process.argv[roundsFlag + 1]) : 7
const published = ["core", "tensor", "training", "openai", "models", "cli"]

/** Builds and stages the CLI's packages and links them into an install-shaped node_modules. */
const install = () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-bench-startup-"))
  const stage = path.join(root, "stage")
  const started = performance.now()
  const tarballs = packWorkspace({ repoRoot, folders: published.map((name) => `packages/${name}`), out: path.join(root, "tarballs"), stage })
  const seconds = (performance.now() - started) / 1000
  const modules = path.join(stage, "node_modules")
  fs.mkdirSync(path.join(modules, "@refine-af"), { recursive: true })
  for (const name of published) fs.symlinkSync(path.join(stage, "packages", name), path.join(modules, "@refine-af", name), "dir")
  for (const entry of fs.readdirSync(path.join(repoRoot, "node_modules"))) {
    if (entry === "@refine-af" || entry.startsWith(".")) continue
    fs.symlinkSync(path.join(repoRoot, "node_modules", entry), path.join(modules, entry), "dir")
  }
  const bytes = tarballs.reduce((sum, tarball) => sum + fs.statSync(tarball.file).size, 0)
  return { root, bin: path.join(modules, "@refine-af/cli/dist/bin/refine-af.js"), build: { seconds, tarballBytes: bytes } }
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
const installed = install()
const ways = { "tsx (repository bin)": path.join(repoRoot, "packages/cli/bin/refine-af.js"), "built (installed bin)": installed.bin }
const samples: Record<string, Array<number>> = Object.fromEntries(Object.keys(ways).map((name) => [name, []]))
for (const entry of Object.values(ways)) timeHelp(entry) // warm the file cache (and tsx's transform cache) once for both
for (let round = 0; round < rounds; round++) for (const [name, entry] of Object.entries(ways)) samples[name]!.push(timeHelp(entry))
const loadAfter = os.loadavg()
fs.rmSync(installed.root, { recursive: true, force: true })

const rows = Object.entries(samples).map(([name, values]) => ({ name, medianSeconds: median(values), minSeconds: Math.min(...values), maxSeconds: Math.max(...values), samples: values }))
const before = rows[0]!.medianSeconds
console.log(`refine-af --help start-up, ${rounds} alternating rounds (load ${loadBefore.map((x) => x.toFixed(1)).join(" ")} → ${loadAfter.map((x) => x.toFixed(1)).join(" ")})`)
console.log("way                     median   min      max      ratio")
for (const row of rows) console.log(`${row.name.padEnd(23)} ${row.medianSeconds.toFixed(2).padStart(6)} s ${row.minSeconds.toFixed(2).padStart(6)} s ${row.maxSeconds.toFixed(2).padStart(6)} s ${(row.medianSeconds / before).toFixed(2)}x`)
console.log(`build + pack (tools/pack, ${published.length} packages): ${installed.build.seconds.toFixed(1)} s, tarballs ${(installed.build.tarballBytes / 1024).toFixed(0)} KiB`)

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
  build: installed.build,
  results: rows,
  ratioBuiltToTsx: rows[1]!.medianSeconds / before,
  note: "tsx = packages/cli/bin/refine-af.js (what npx refine-af runs in a checkout); built = dist/bin/refine-af.js from tools/pack, what the published @refine-af/cli installs as its bin (TypeScript plugins make it register tsx on first need, not at start-up)"
}, null, 2) + "\n")
