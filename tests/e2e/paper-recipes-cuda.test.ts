/**
 * The paper recipes that train (`recipes/paper/refine-af-*`, `self-instruct-<model>`) ask for
 * the CUDA provider with no CPU fallback. On a machine without onnxruntime's CUDA libraries a
 * run must stop before any stage does work — not after hours of CPU generation — with an
 * error naming the provider, what is missing and the install command. Skips (with the reason
 * printed) where the CUDA provider is installed: there is no missing GPU to observe.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { checkProvider } from "@refine-af/backend-onnx"
import { describe, expect, it } from "vitest"
import { committedCount, onlyRunDir, repoRoot, runCli, stageStatus, tempDir } from "./cli.ts"
import { createPaths, neededPaths, writeStandInModel } from "./paper-layout.ts"

const paperDir = path.join(repoRoot, "recipes/paper")
const trainingRecipes = fs.readdirSync(paperDir).filter((file) => /^(refine-af|self-instruct-(?!data-)).*\.yaml$/.test(file)).sort()

describe("paper recipes on a machine without CUDA", () => {
  it("are the six full-loop and baseline recipes, each asking for cuda without a CPU fallback", () => {
    expect(trainingRecipes).toHaveLength(6)
    for (const file of trainingRecipes) {
      const text = fs.readFileSync(path.join(paperDir, file), "utf8")
      expect(text, file).toMatch(/^ {4}provider: cuda\b/m)
      expect(text, file).not.toMatch(/^ {4}fallback:/m)
    }
  })

  it("refine-af-llama2-7b stops at its first stage with 0 records, naming cuda, what is missing and how to install it", async () => {
    const problem = await checkProvider("cuda")
    if (problem === undefined) {
      console.log("the cuda provider is available here: no missing GPU to observe")
      return
    }
    const file = "refine-af-llama2-7b.yaml"
    const dir = tempDir("paper-cuda")
    fs.copyFileSync(path.join(paperDir, file), path.join(dir, file))
    const { model, others } = neededPaths(file)
    createPaths(dir, others)
    writeStandInModel(path.join(dir, model.relative))
    const runsDir = path.join(dir, "runs")

    const result = await runCli(["run", path.join(dir, file), "--runs-dir", runsDir, "--cache-dir", path.join(dir, "cache")])
    const output = `${result.stdout}\n${result.stderr}`
    expect(result.code, output).toBe(1)
    expect(output).toContain(`execution provider "cuda" is not available: missing ${problem.missing}`)
    expect(output).toContain("ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node")
    expect(output).toContain("fallback: cpu")
    expect(output).not.toContain("Failed to load library")

    const runDir = await onlyRunDir(runsDir, 1000)
    expect(stageStatus(runDir, "instructions")).toBe("failed")
    expect(committedCount(runDir, "instructions")).toBe(0)
    for (const later of ["classified", "rl_prompts", "ppo", "dataset_rlaf", "dataset_base", "sft_rlaf", "sft_base", "eval_rlaf", "eval_base", "compare"]) {
      expect(stageStatus(runDir, later), later).toBe("pending")
    }
  })
})
