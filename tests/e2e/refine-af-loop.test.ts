/**
 * The whole REFINE-AF loop (recipes/examples/refine-af-loop.yaml) end to end
 * through the CLI on the built-in speaker model, with smaller budgets: every
 * stage completes, the dataset is non-empty, PPO writes finite rewards per
 * iteration and a PEFT adapter, both SFT arms write losses and adapters, and
 * the paired comparison exists for the two arms. The shape is asserted, never
 * the numbers (they are the model's, whatever they are).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { decodeRunReport } from "@refine-af/core"
import { onlyRunDir, runCli, tempDir } from "./cli.ts"

const recipe = "recipes/examples/refine-af-loop.yaml"
const overrides = [
  "stages.ppo.steps=2", "stages.ppo.batchSize=4", "stages.ppo.miniBatchSize=4", "stages.ppo.ppoEpochs=1",
  "stages.sft_rlaf.max_steps=4", "stages.sft_base.max_steps=4",
  "stages.eval_rlaf.maxInstances=1", "stages.eval_base.maxInstances=1"
]
const records = (runDir: string, stage: string): Array<Record<string, any>> => {
  const text = fs.readFileSync(path.join(runDir, "stages", stage, "records.jsonl"), "utf8").trimEnd()
  return text === "" ? [] : text.split("\n").map((line) => JSON.parse(line))
}

describe("the whole REFINE-AF loop on the built-in speaker model", () => {
  it("bootstrap → classify → PPO → instances (both arms) → SFT → evaluation → paired comparison", async () => {
    const runsDir = tempDir("loop")
    const result = await runCli(["run", recipe, ...overrides, "--runs-dir", runsDir], { REFINE_AF_CACHE: tempDir("loop-cache") })
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
    const runDir = await onlyRunDir(runsDir)
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8"))
    expect(manifest.status).toBe("completed")

    expect(records(runDir, "instructions").length).toBeGreaterThan(0)
    for (const arm of ["dataset_rlaf", "dataset_base"]) {
      const rows = records(runDir, arm)
      expect(rows.length, arm).toBeGreaterThan(0)
      for (const row of rows) expect(Object.keys(row)).toEqual(expect.arrayContaining(["instruction", "input", "output"]))
    }
    const ppo = records(runDir, "ppo")
    expect(ppo.map((r) => r["step"])).toEqual([0, 1])
    for (const r of ppo) expect(Number.isFinite(r["reward_mean"])).toBe(true)
    for (const stage of ["ppo", "sft_rlaf", "sft_base"]) {
      expect(fs.existsSync(path.join(runDir, "stages", stage, "adapter", "adapter_config.json")), stage).toBe(true)
    }
    for (const stage of ["sft_rlaf", "sft_base"]) {
      const losses = records(runDir, stage).map((r) => r["loss"])
      expect(losses.length, stage).toBeGreaterThan(0)
      for (const loss of losses) expect(Number.isFinite(loss)).toBe(true)
    }
    const report = fs.readFileSync(path.join(runDir, "stages", "compare", "report.md"), "utf8")
    expect(report).toContain("eval_rlaf vs eval_base")
    expect(records(runDir, "compare").length).toBeGreaterThan(0)

    // The run report: named by the summary, with every stage, the curves, filter table, samples and evaluation tables.
    expect(result.stdout).toContain(path.join(runDir, "report.html"))
    const run = decodeRunReport(JSON.parse(fs.readFileSync(path.join(runDir, "report.json"), "utf8")))
    expect(run.stages.map((stage) => stage.name)).toEqual(Object.keys(manifest.stages))
    const of = (name: string) => run.stages.find((stage) => stage.name === name)!
    expect(of("ppo").curves.find((curve) => curve.name === "reward_mean")!.points.map((point) => point.step)).toEqual([0, 1])
    expect(of("ppo").samples[0]!.samples[0]!.map((field) => field.name)).toEqual(expect.arrayContaining(["prompt", "completion", "reward", "parts"]))
    for (const stage of ["sft_rlaf", "sft_base"]) expect(of(stage).curves.map((curve) => curve.name), stage).toContain("loss")
    expect(of("instructions").tables[0]!.title).toBe("Filter statistics")
    expect(of("instructions").samples.map((group) => group.group)).toContain("accepted instructions")
    expect(of("compare").tables[0]!.rows[0]!.slice(0, 2)).toEqual(["eval_rlaf", "eval_base"])
    expect(run.outputs.filter((output) => output.kind === "dataset").map((output) => output.stage)).toEqual(["dataset_rlaf", "dataset_base"])
    expect(run.problems).toEqual([])
    const markdown = fs.readFileSync(path.join(runDir, "report.md"), "utf8")
    expect(Math.max(...markdown.split("\n").map((line) => line.length))).toBeLessThanOrEqual(100)
    expect((fs.readFileSync(path.join(runDir, "report.html"), "utf8").match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(6)
  }, 1_200_000)
})
