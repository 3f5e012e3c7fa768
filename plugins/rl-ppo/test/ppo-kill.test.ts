/**
 * The kill -9 drill through the real CLI: `refine-af run` a PPO recipe (table
 * policy, digit reward), SIGKILL it after 3, 9 and 15 durable iteration
 * records (between checkpoints), `refine-af resume` each time, and compare with
 * an uninterrupted run: the same adapter bytes and the same metrics (all but
 * wall-clock times), no lost or duplicated iteration record.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const repoRoot = path.resolve(import.meta.dirname, "../../..")
const bin = path.join(repoRoot, "packages/cli/bin/refine-af.js")
const steps = 20
const recipe = `# PPO kill drill
name: ppo-kill
seed: 5
plugins:
  - "${path.resolve(import.meta.dirname, "..")}"
  - "${path.join(repoRoot, "plugins/reward-rules")}"
  - "${path.resolve(import.meta.dirname, "fixtures/toy.plugin.ts")}"
resources:
  policy: { _component_: toy/policy, seed: 3, contextLength: 48 }
  reward: { _component_: rules/reward, rules: [{ kind: contains-digit }] }
stages:
  prompts: { _component_: toy/prompts }
  ppo:
    _component_: ppo/train
    prompts: prompts
    policy: policy
    reward: reward
    steps: ${steps}
    batchSize: 16
    miniBatchSize: 8
    ppoEpochs: 2
    lr: 0.05
    lora: { rank: 4, alpha: 8, targets: [table] }
    kl: { initial: 0.02 }
    sampling: { maxNewTokens: 3 }
    checkpointEvery: 4
`

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `ppo-kill-${prefix}-`))
const env = (cache: string) => ({ ...process.env, REFINE_AF_CACHE: cache, REFINE_AF_CHECKPOINT_RECORDS: "1", REFINE_AF_DEBUG: "" })
const cli = (args: Array<string>, cache: string) => {
  const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: env(cache), stdio: ["ignore", "pipe", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (c) => (stderr += c))
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stderr })))
  return { child, done }
}
const onlyRun = (runs: string) => {
  const entries = fs.existsSync(runs) ? fs.readdirSync(runs) : []
  return entries.length === 1 && fs.existsSync(path.join(runs, entries[0]!, "manifest.json")) ? path.join(runs, entries[0]!) : undefined
}
const committed = (runDir: string) => {
  try {
    return (JSON.parse(fs.readFileSync(path.join(runDir, "stages", "ppo", ".records.commit"), "utf8")) as { count: number }).count
  } catch {
    return 0
  }
}
const records = (runDir: string) =>
  fs.readFileSync(path.join(runDir, "stages", "ppo", "records.jsonl"), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => {
    const { time: _time, ...rest } = JSON.parse(l) as Record<string, unknown>
    return rest
  })
const adapter = (runDir: string) => fs.readFileSync(path.join(runDir, "stages", "ppo", "adapter", "adapter_model.safetensors"))

describe("ppo/train under kill -9", () => {
  it("resumes after SIGKILL at 3, 9 and 15 durable iterations to the uninterrupted run's adapter and metrics", { timeout: 300_000 }, async () => {
    const dir = tmp("recipe")
    const file = path.join(dir, "ppo.yaml")
    fs.writeFileSync(file, recipe)
    const referenceRuns = tmp("ref")
    const reference = await cli(["run", file, "--runs-dir", referenceRuns, "--no-cache"], tmp("cache-ref")).done
    expect(reference.code, reference.stderr).toBe(0)
    const expectedRun = onlyRun(referenceRuns)!
    expect(records(expectedRun).map((r) => r["step"])).toEqual([...Array(steps).keys()])

    const runs = tmp("killed")
    const cache = tmp("cache")
    let runDir: string | undefined
    for (const [attempt, at] of [3, 9, 15].entries()) {
      const running = attempt === 0 ? cli(["run", file, "--runs-dir", runs, "--no-cache"], cache) : cli(["resume", runDir!], cache)
      let exited = false
      void running.done.then(() => (exited = true))
      for (;;) {
        runDir ??= onlyRun(runs)
        if (runDir !== undefined && committed(runDir) >= at) break
        if (exited) throw new Error(`the CLI exited before ${at} iterations: ${(await running.done).stderr}`)
        await new Promise((r) => setTimeout(r, 5))
      }
      running.child.kill("SIGKILL")
      expect((await running.done).signal).toBe("SIGKILL")
      expect(committed(runDir!)).toBeLessThan(steps)
    }
    const finished = await cli(["resume", runDir!], cache).done
    expect(finished.code, finished.stderr).toBe(0)
    expect(records(runDir!)).toEqual(records(expectedRun))
    expect(adapter(runDir!).equals(adapter(expectedRun))).toBe(true)
  })
})
