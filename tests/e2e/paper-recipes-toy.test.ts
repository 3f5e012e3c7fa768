/**
 * The paper recipes themselves (`recipes/paper/*-llama2-7b.yaml`, unedited), run end to end on
 * the CPU at toy scale: the folders their headers tell a user to download are filled with
 * stand-ins our own tools write — the built-in speaker model for LLaMA 2-7B, the tiny GPT-NeoX
 * reward model and T5 of `tools/golden/` with tokenizers from `@refine-af/testing`, the bundled
 * 8-task SuperNI-format set in the official layout — and command-line overrides shrink the
 * budgets and choose the CPU. Nothing else differs from a paper run: the same stages, wiring,
 * reward (reward model + UniEval under InstructMining's weights), PEFT adapters, evaluation and
 * comparison. A GPU run is expensive to repeat, so wiring mistakes must show here first.
 * Then the baseline recipe must take all of its stages from the full loop's cache, as
 * `recipes/README.md` says; the data-only recipe (its own resources: default provider and model
 * settings, so its own cache keys) must run too.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { writeBpeTokenizer, writeUnigramTokenizer } from "@refine-af/testing"
import { beforeAll, describe, expect, it } from "vitest"
import { repoRoot, runCli, stackTrace, tempDir } from "./cli.ts"
import { writeSuperniLayout } from "./paper-layout.ts"

const paperDir = path.join(repoRoot, "recipes/paper")
const work = tempDir("paper-toy")
const recipeDir = path.join(work, "paper")
const runsDir = path.join(work, "runs")
const cacheDir = path.join(work, "cache")

/** The folders of `recipes/paper/` a user downloads, filled with stand-ins. */
const writeStandIns = (): void => {
  const models = path.join(recipeDir, "models")
  fs.cpSync(path.join(repoRoot, "plugins/model-llama/models/speaker"), path.join(models, "llama-2-7b-hf"), { recursive: true })
  fs.cpSync(path.join(repoRoot, "tools/golden/gpt-neox/tiny-gpt-neox-rm"), path.join(models, "oasst-rm-2.1-pythia-1.4b"), { recursive: true })
  writeBpeTokenizer(path.join(models, "oasst-rm-2.1-pythia-1.4b"))
  fs.cpSync(path.join(repoRoot, "tools/golden/t5/tiny-t5-v1_0"), path.join(models, "unieval-dialog"), { recursive: true })
  writeUnigramTokenizer(path.join(models, "unieval-dialog"))
  writeSuperniLayout(path.join(recipeDir, "data/superni"))
}

/** The provider the recipes run on: the CPU here; `tools/gpu-check` sets cuda or webgpu (the recipes' weight settings stay theirs). */
const provider = process.env["REFINE_AF_E2E_PROVIDER"] ?? "cpu"

/** Overrides every recipe gets: the provider, the bundled seed tasks (the pinned URL needs the network), small budgets. */
const shared = [
  `resources.compute.provider=${provider}`,
  `stages.instructions.seeds=${path.join(repoRoot, "plugins/generator-self-instruct/data/seed_tasks.jsonl")}`,
  "stages.instructions.target=8"
]
const arm = (suffix: "rlaf" | "base") => [
  `stages.dataset_${suffix}.maxInstances=2`,
  `stages.sft_${suffix}.batch_size=4`,
  `stages.sft_${suffix}.epochs=1`,
  `stages.eval_${suffix}.maxInstances=2`
]
const ppo = ["stages.ppo.steps=2", "stages.ppo.batchSize=8", "stages.ppo.miniBatchSize=4", "stages.ppo.microBatchSize=2", "stages.compare.resamples=200"]

/** A stage in `manifest.json`: "completed" when it ran, "cached" when it came from the cache. */
interface StageEntry {
  readonly status: string
}

const run = async (file: string, overrides: ReadonlyArray<string>) => {
  const before = fs.existsSync(runsDir) ? new Set(fs.readdirSync(runsDir)) : new Set<string>()
  const result = await runCli(["run", path.join(recipeDir, file), "--runs-dir", runsDir, "--cache-dir", cacheDir, ...overrides])
  const output = `${result.stdout}\n${result.stderr}`
  expect(result.code, output).toBe(0)
  expect(result.stderr).not.toMatch(stackTrace)
  const created = fs.readdirSync(runsDir).filter((entry) => !before.has(entry))
  expect(created).toHaveLength(1)
  const runDir = path.join(runsDir, created[0]!)
  const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as { stages: Record<string, StageEntry> }
  return { runDir, stages: manifest.stages, output }
}

const lines = (file: string): Array<Record<string, unknown>> =>
  fs.readFileSync(file, "utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)

describe(`the LLaMA 2-7B paper recipes at toy scale on ${provider}`, () => {
  beforeAll(() => {
    fs.mkdirSync(recipeDir, { recursive: true })
    for (const file of ["refine-af-llama2-7b.yaml", "self-instruct-llama2-7b.yaml", "self-instruct-data-llama2-7b.yaml"]) {
      fs.copyFileSync(path.join(paperDir, file), path.join(recipeDir, file))
    }
    writeStandIns()
  })

  it("refine-af-llama2-7b runs every stage: PPO rewarded by the reward model and UniEval, both arms trained and evaluated, the comparison written", async () => {
    const { runDir, stages } = await run("refine-af-llama2-7b.yaml", [...shared, ...ppo, ...arm("rlaf"), ...arm("base")])
    const names = ["instructions", "classified", "rl_prompts", "ppo", "dataset_rlaf", "dataset_base", "sft_rlaf", "sft_base", "eval_rlaf", "eval_base", "compare"]
    expect(Object.keys(stages).sort()).toEqual([...names].sort())
    for (const name of names) expect(stages[name]?.status, name).toBe("completed")

    const iterations = lines(path.join(runDir, "stages/ppo/records.jsonl"))
    expect(iterations).toHaveLength(2)
    for (const iteration of iterations) {
      const parts = iteration["reward_parts"] as Record<string, number>
      // InstructMining's terms: the reward model's score and UniEval's three dimensions, each finite.
      for (const term of ["Rew", "Nat", "Coh", "Und"]) expect(Number.isFinite(parts[term]), term).toBe(true)
      expect(Number.isFinite(iteration["reward_mean"])).toBe(true)
    }
    expect(fs.existsSync(path.join(runDir, "stages/ppo/adapter/adapter_model.safetensors"))).toBe(true)
    for (const suffix of ["rlaf", "base"]) {
      expect(lines(path.join(runDir, `stages/dataset_${suffix}/records.jsonl`)).length).toBeGreaterThan(0)
      expect(fs.existsSync(path.join(runDir, `stages/sft_${suffix}/adapter/adapter_model.safetensors`))).toBe(true)
      // Two instances of each of the 8 tasks, read from the official layout.
      expect(lines(path.join(runDir, `stages/eval_${suffix}/records.jsonl`))).toHaveLength(16)
    }
    expect(fs.readFileSync(path.join(runDir, "stages/compare/report.md"), "utf8")).toMatch(/improved on \d+ of 8 tasks/)
  })

  it("self-instruct-llama2-7b then takes every stage from the full loop's cache", async () => {
    const { stages } = await run("self-instruct-llama2-7b.yaml", [...shared, ...arm("base")])
    expect(Object.keys(stages).sort()).toEqual(["classified", "dataset_base", "eval_base", "instructions", "sft_base"])
    for (const [name, entry] of Object.entries(stages)) expect(entry.status, name).toBe("cached")
  })

  it("self-instruct-data-llama2-7b writes instructions and their instances", async () => {
    const { runDir, stages } = await run("self-instruct-data-llama2-7b.yaml", [...shared, "stages.dataset.maxInstances=2"])
    expect(Object.keys(stages).sort()).toEqual(["classified", "dataset", "instructions"])
    for (const [name, entry] of Object.entries(stages)) expect(entry.status, name).toBe("completed")
    expect(lines(path.join(runDir, "stages/dataset/records.jsonl")).length).toBeGreaterThan(0)
  })
})
