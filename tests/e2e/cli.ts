/**
 * Helpers to drive the real `refine-af` binary as a child process.
 */
import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
export const binPath = path.join(repoRoot, "packages/cli/bin/refine-af.js")

/** A fresh temporary folder. */
export const tempDir = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `refine-af-e2e-${prefix}-`))

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunningCli {
  readonly child: ChildProcess
  readonly done: Promise<CliResult>
}

/** Starts `refine-af <args>` in the repository root with a private cache folder. */
export const startCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): RunningCli => {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, REFINE_AF_DEBUG: "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk) => (stdout += chunk))
  child.stderr!.on("data", (chunk) => (stderr += chunk))
  const done = new Promise<CliResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })))
  return { child, done }
}

/** Runs `refine-af <args>` to completion. */
export const runCli = (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<CliResult> => startCli(args, env).done

/** Runs a recipe into `runsDir` with no stage cache and a fresh private cache folder (nothing comes from an earlier run). */
export const runFresh = (recipe: string, runsDir: string): Promise<CliResult> =>
  runCli(["run", recipe, "--runs-dir", runsDir, "--no-cache"], { REFINE_AF_CACHE: tempDir("fresh-cache") })

/** A plugin folder of this repository as a quoted absolute path, for a recipe's `plugins:` list. */
export const pluginPath = (relative: string): string => JSON.stringify(path.join(repoRoot, relative))

/** A Node stack-trace line: CLI errors must never show one (`expect(stderr).not.toMatch(stackTrace)`). */
export const stackTrace = /\n\s+at .+:\d+:\d+/

/** A run's events.jsonl, one object per line. */
export const runEvents = (runDir: string): Array<Record<string, unknown>> =>
  fs.readFileSync(path.join(runDir, "events.jsonl"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)

/** The only run directory under `runsDir` (waits for it to appear). */
export const onlyRunDir = async (runsDir: string, timeoutMs = 120_000): Promise<string> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const entries = fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []
    if (entries.length === 1 && fs.existsSync(path.join(runsDir, entries[0]!, "manifest.json"))) return path.join(runsDir, entries[0]!)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`no run directory appeared under ${runsDir}`)
}

/** Committed record count of a stage (from its commit marker), 0 when none yet. */
export const committedCount = (runDir: string, stage: string): number => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(runDir, "stages", stage, ".records.commit"), "utf8")) as { count: number }).count
  } catch {
    return 0
  }
}

/** Status of a stage from the manifest (undefined before it starts). */
export const stageStatus = (runDir: string, stage: string): string | undefined => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as { stages: Record<string, { status: string }> }).stages[stage]?.status
  } catch {
    return undefined
  }
}

/** Waits until `condition` holds (polling every 10 ms) or the child exits. */
export const waitFor = async (condition: () => boolean, running: RunningCli, what: string, timeoutMs = 180_000): Promise<void> => {
  let exited = false
  void running.done.then(() => (exited = true))
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (exited) throw new Error(`the CLI exited before ${what}`)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A stage's records (its records.jsonl, one JSON object a line; [] when empty). */
export const records = <Row = Record<string, any>>(runDir: string, stage: string): Array<Row> => {
  const text = fs.readFileSync(path.join(runDir, "stages", stage, "records.jsonl"), "utf8").trimEnd()
  return text === "" ? [] : text.split("\n").map((line) => JSON.parse(line) as Row)
}

/** Wall-clock fields of trainer records (RL's per-phase `time`, SFT's `tokens_per_second`): they differ between runs, nothing else may. */
const TIMING = new Set(["time", "tokens_per_second"])

/** A record without its wall-clock fields. */
export const withoutTiming = <Row extends Record<string, unknown>>(row: Row): Partial<Row> => Object.fromEntries(Object.entries(row).filter(([key]) => !TIMING.has(key))) as Partial<Row>

/** The bytes of a trainer stage's exported adapter weights. */
export const adapterBytes = (runDir: string, stage: string): Buffer => fs.readFileSync(path.join(runDir, "stages", stage, "adapter", "adapter_model.safetensors"))
