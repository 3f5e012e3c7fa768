/**
 * `recipes/small/refine-af-qwen3-0.6b.yaml`, unedited, end to end at toy scale: the folders its
 * header tells a user to download hold stand-ins our tools write — the built-in speaker model for
 * Qwen3-0.6B-Base (the wiring does not depend on the architecture; qwen3 numerics are checked
 * against PyTorch in plugins/model-llama), the tiny Qwen3 sequence classifier of
 * `tools/golden/llama-classifier` with a chat template for the Skywork reward model (so
 * `template: chat` runs inside the loop), the tiny T5 for UniEval, the bundled SuperNI-format set —
 * and overrides shrink the budgets. Every stage must complete, with PPO rewarded by both
 * evaluators under InstructMining's weights.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { OASST_CHAT_TEMPLATE, writeBpeTokenizer, writeUnigramTokenizer } from "@refine-af/testing"
import { describe, expect, it } from "vitest"
import { repoRoot, runCli, stackTrace, tempDir } from "./cli.ts"
import { writeSuperniLayout } from "./paper-layout.ts"

const work = tempDir("small-toy")
const recipeDir = path.join(work, "small")

const lines = (file: string): Array<Record<string, unknown>> =>
  fs.readFileSync(file, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)

describe("recipes/small at toy scale", () => {
  it("refine-af-qwen3-0.6b runs every stage: PPO rewarded by the chat-template reward model and UniEval, both arms trained and evaluated, the comparison written", async () => {
    fs.mkdirSync(recipeDir, { recursive: true })
    fs.copyFileSync(path.join(repoRoot, "recipes/small/refine-af-qwen3-0.6b.yaml"), path.join(recipeDir, "refine-af-qwen3-0.6b.yaml"))
    const models = path.join(recipeDir, "models")
    fs.cpSync(path.join(repoRoot, "plugins/model-llama/models/speaker"), path.join(models, "qwen3-0.6b-base"), { recursive: true })
    const rm = path.join(models, "skywork-reward-v2-qwen3-0.6b")
    fs.cpSync(path.join(repoRoot, "tools/golden/llama-classifier/tiny-qwen3-classifier"), rm, { recursive: true })
    writeBpeTokenizer(rm, { chatTemplate: OASST_CHAT_TEMPLATE })
    fs.cpSync(path.join(repoRoot, "tools/golden/t5/tiny-t5-v1_0"), path.join(models, "unieval-dialog"), { recursive: true })
    writeUnigramTokenizer(path.join(models, "unieval-dialog"))
    writeSuperniLayout(path.join(recipeDir, "data/superni"))

    const runsDir = path.join(work, "runs")
    const arm = (suffix: string) => [`stages.dataset_${suffix}.maxInstances=2`, `stages.sft_${suffix}.batch_size=4`, `stages.sft_${suffix}.epochs=1`, `stages.eval_${suffix}.maxInstances=2`]
    const result = await runCli([
      "run", path.join(recipeDir, "refine-af-qwen3-0.6b.yaml"), "--runs-dir", runsDir, "--cache-dir", path.join(work, "cache"),
      `stages.instructions.seeds=${path.join(repoRoot, "plugins/generator-self-instruct/data/seed_tasks.jsonl")}`,
      "stages.instructions.target=8",
      "stages.ppo.steps=2", "stages.ppo.batchSize=8", "stages.ppo.miniBatchSize=4", "stages.ppo.microBatchSize=2", "stages.compare.resamples=200",
      ...arm("rlaf"), ...arm("base")
    ])
    const output = `${result.stdout}\n${result.stderr}`
    expect(result.code, output).toBe(0)
    expect(result.stderr).not.toMatch(stackTrace)
    const [created] = fs.readdirSync(runsDir)
    const runDir = path.join(runsDir, created!)
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as { stages: Record<string, { status: string }> }
    const names = ["instructions", "classified", "rl_prompts", "ppo", "dataset_rlaf", "dataset_base", "sft_rlaf", "sft_base", "eval_rlaf", "eval_base", "compare"]
    expect(Object.keys(manifest.stages).sort()).toEqual([...names].sort())
    for (const name of names) expect(manifest.stages[name]?.status, name).toBe("completed")
    for (const iteration of lines(path.join(runDir, "stages/ppo/records.jsonl"))) {
      const parts = iteration["reward_parts"] as Record<string, number>
      for (const term of ["Rew", "Nat", "Coh", "Und"]) expect(Number.isFinite(parts[term]), term).toBe(true)
    }
    for (const suffix of ["rlaf", "base"]) expect(lines(path.join(runDir, `stages/eval_${suffix}/records.jsonl`))).toHaveLength(16)
    expect(fs.readFileSync(path.join(runDir, "stages/compare/report.md"), "utf8")).toMatch(/improved on \d+ of 8 tasks/)
  })
})
