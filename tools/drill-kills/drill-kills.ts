/**
 * Kill drill of the main job: runs `recipes/quickstart.yaml` through the real CLI once
 * uninterrupted, then N trials that each send 1–3 signals at random moments (SIGKILL to the
 * whole process group, or SIGINT / SIGTERM to the CLI), resume after each, finish with a plain
 * resume, and compare the trial's outputs with the uninterrupted run's:
 *
 * - every file under `stages/` byte for byte, except the timing fields (`time`,
 *   `tokens_per_second`) of trainer records and the commit markers (whose hash covers those);
 * - the manifest: `completed`, every stage completed, the same per-stage metrics (timings aside);
 * - no temporary file (`*.tmp`, `*.tmp-<pid>`) left under `stages/` or `state/`.
 *
 * Not a test (minutes per trial on 2 cores; CI runs the targeted kill tests in tests/e2e): run it
 * by hand after touching the runner, a stage's resume or a trainer's checkpoints. Session 31's
 * version of this drill (124 trials) found four resume bugs, each now covered by a test.
 *
 * Run:   npx tsx tools/drill-kills/drill-kills.ts [--trials 10] [--seed 1]
 * Prints one line per trial and a summary; writes bench-results/drill-kills.json (trials,
 * signals, failures, load average). Exit 1 when any trial failed. Trial folders of failures are
 * kept (their paths are printed); the others are removed.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const bin = path.join(repoRoot, "packages/cli/bin/refine-af.js")
const recipe = path.join(repoRoot, "recipes/quickstart.yaml")

const argument = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}
const trials = argument("trials", 10)
let state = argument("seed", 1) >>> 0 || 1
/** A small seeded generator: the same --seed gives the same kill plan. */
const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32)

interface Attempt {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly seconds: number
}

/** Runs the CLI in its own process group; `killAfter` sends `signal` to it (the group for SIGKILL) after that many seconds. */
const cli = (args: ReadonlyArray<string>, killAfter?: { readonly seconds: number; readonly signal: NodeJS.Signals }): Promise<Attempt> =>
  new Promise((resolve) => {
    const started = performance.now()
    const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, detached: true, stdio: ["ignore", "ignore", "pipe"] })
    child.stderr.resume()
    const timer = killAfter === undefined ? undefined : setTimeout(() => {
      try {
        if (killAfter.signal === "SIGKILL") process.kill(-child.pid!, "SIGKILL")
        else child.kill(killAfter.signal)
      } catch {
        // Already gone: the run finished before the signal.
      }
    }, killAfter.seconds * 1000)
    child.on("exit", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      resolve({ code, signal, seconds: (performance.now() - started) / 1000 })
    })
  })

const onlyRun = (runsDir: string) => path.join(runsDir, fs.readdirSync(runsDir)[0]!)

const filesUnder = (root: string, at = ""): Array<string> =>
  !fs.existsSync(path.join(root, at)) ? [] : fs.readdirSync(path.join(root, at), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(at, entry.name)
    return entry.isDirectory() ? filesUnder(root, relative) : [relative]
  })

const timingFields = new Set(["time", "tokens_per_second"])
/** A file's comparable content: trainer records without their timings, commit markers by count only. */
const comparable = (file: string): string => {
  const name = path.basename(file)
  if (name === ".records.commit") return String((JSON.parse(fs.readFileSync(file, "utf8")) as { count?: number }).count)
  if (name === "records.jsonl") {
    return fs.readFileSync(file, "utf8").split("\n").map((line) => {
      if (line === "") return line
      const row = JSON.parse(line) as Record<string, unknown>
      return JSON.stringify(Object.fromEntries(Object.entries(row).filter(([key]) => !timingFields.has(key))))
    }).join("\n")
  }
  return fs.readFileSync(file).toString("base64")
}

const stageMetrics = (runDir: string) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as { status: string; stages: Record<string, { status: string; metrics?: Record<string, number> }> }
  const metrics = Object.fromEntries(Object.entries(manifest.stages).map(([stage, entry]) => [stage, Object.fromEntries(Object.entries(entry.metrics ?? {}).filter(([key]) => !/time|per_second|seconds/.test(key)))]))
  return { status: manifest.status, statuses: Object.fromEntries(Object.entries(manifest.stages).map(([stage, entry]) => [stage, entry.status])), metrics }
}

/** The differences between a trial's run and the reference (empty: identical). */
const differences = (reference: string, trial: string): Array<string> => {
  const problems: Array<string> = []
  const expected = filesUnder(path.join(reference, "stages")).sort()
  const actual = filesUnder(path.join(trial, "stages")).sort()
  const temps = [...filesUnder(path.join(trial, "stages")), ...filesUnder(path.join(trial, "state"))].filter((file) => /\.tmp(-\d+)?$/.test(file))
  if (temps.length > 0) problems.push(`temporary files left: ${temps.join(", ")}`)
  for (const file of expected.filter((f) => !actual.includes(f))) problems.push(`missing ${file}`)
  for (const file of actual.filter((f) => !expected.includes(f) && !temps.includes(f))) problems.push(`extra ${file}`)
  for (const file of expected.filter((f) => actual.includes(f))) {
    if (comparable(path.join(reference, "stages", file)) !== comparable(path.join(trial, "stages", file))) problems.push(`differs: ${file}`)
  }
  const want = stageMetrics(reference)
  const got = stageMetrics(trial)
  if (got.status !== "completed") problems.push(`manifest status ${got.status}`)
  for (const [stage, status] of Object.entries(got.statuses)) if (status !== "completed" && status !== "cached") problems.push(`stage ${stage} ${status}`)
  for (const stage of Object.keys(want.metrics)) {
    if (JSON.stringify(want.metrics[stage]) !== JSON.stringify(got.metrics[stage])) problems.push(`metrics of ${stage} differ: ${JSON.stringify(got.metrics[stage]).slice(0, 160)}`)
  }
  return problems
}

const temp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `refine-af-drill-${name}-`))
const loadBefore = os.loadavg()

const referenceRoot = temp("reference")
const reference = await cli(["run", recipe, "--runs-dir", path.join(referenceRoot, "runs"), "--cache-dir", path.join(referenceRoot, "cache")])
if (reference.code !== 0) throw new Error(`the uninterrupted run failed (exit ${reference.code}); nothing to compare with`)
const referenceRun = onlyRun(path.join(referenceRoot, "runs"))
console.log(`reference: ${reference.seconds.toFixed(1)} s (${referenceRun})`)

interface TrialResult {
  readonly trial: number
  readonly signals: Array<{ readonly signal: string; readonly atSeconds: number; readonly landed: boolean }>
  readonly problems: Array<string>
  readonly kept?: string
}
const results: Array<TrialResult> = []
for (let trial = 1; trial <= trials; trial++) {
  const root = temp(`trial${trial}`)
  const runsDir = path.join(root, "runs")
  const cacheDir = path.join(root, "cache")
  const signals: Array<{ signal: string; atSeconds: number; landed: boolean }> = []
  const kills = 1 + Math.floor(random() * 3)
  let runDir: string | undefined
  for (let k = 0; k < kills; k++) {
    const draw = random()
    const signal: NodeJS.Signals = draw < 0.7 ? "SIGKILL" : draw < 0.85 ? "SIGINT" : "SIGTERM"
    const atSeconds = 0.3 + random() * reference.seconds * 0.9
    const attempt = runDir === undefined
      ? await cli(["run", recipe, "--runs-dir", runsDir, "--cache-dir", cacheDir], { seconds: atSeconds, signal })
      : await cli(["resume", runDir, "--cache-dir", cacheDir], { seconds: atSeconds, signal })
    signals.push({ signal, atSeconds: Number(atSeconds.toFixed(2)), landed: attempt.code !== 0 })
    if (runDir === undefined && fs.existsSync(runsDir) && fs.readdirSync(runsDir).length > 0) runDir = onlyRun(runsDir)
    if (attempt.code === 0) break
  }
  const problems: Array<string> = []
  if (runDir === undefined) problems.push("the first attempt left no run folder (killed before it made one): nothing to resume")
  else {
    // Finish: a plain resume (again after a moment if the killed process still held the run).
    let finished: Attempt | undefined
    for (let tries = 0; tries < 3 && finished?.code !== 0; tries++) {
      if (stageMetrics(runDir).status === "completed") break
      finished = await cli(["resume", runDir, "--cache-dir", cacheDir])
    }
    problems.push(...differences(referenceRun, runDir))
  }
  const failed = problems.length > 0
  if (!failed) fs.rmSync(root, { recursive: true, force: true })
  results.push({ trial, signals, problems, ...(failed ? { kept: root } : {}) })
  const plan = signals.map((s) => `${s.signal}@${s.atSeconds}s${s.landed ? "" : " (after the end)"}`).join(", ")
  console.log(`trial ${String(trial).padStart(3)}  ${failed ? "FAIL" : "pass"}  ${plan}${failed ? `\n    ${problems.slice(0, 5).join("\n    ")}\n    kept: ${root}` : ""}`)
}

const failures = results.filter((result) => result.problems.length > 0)
const sent = results.flatMap((result) => result.signals)
const summary = {
  tool: "drill-kills",
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? "?", node: process.version },
  loadavg: { before: loadBefore, after: os.loadavg() },
  referenceSeconds: reference.seconds,
  trials: results.length,
  signals: Object.fromEntries(["SIGKILL", "SIGINT", "SIGTERM"].map((signal) => [signal, sent.filter((s) => s.signal === signal && s.landed).length])),
  failed: failures.length,
  results
}
fs.mkdirSync(path.join(repoRoot, "bench-results"), { recursive: true })
fs.writeFileSync(path.join(repoRoot, "bench-results", "drill-kills.json"), `${JSON.stringify(summary, null, 1)}\n`)
fs.rmSync(referenceRoot, { recursive: true, force: true })
console.log(`\n${results.length} trials, ${sent.filter((s) => s.landed).length} signals landed (${JSON.stringify(summary.signals)}), ${failures.length} failed; load ${loadBefore.map((l) => l.toFixed(2)).join(" ")} → ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`)
process.exitCode = failures.length > 0 ? 1 : 0
