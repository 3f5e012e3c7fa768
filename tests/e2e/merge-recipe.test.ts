/**
 * `recipes/examples/merge.yaml` end to end: LoRA SFT on the speaker model, then `llama/merge`
 * writes the merged Hugging Face folder, the run summary lists it as a model, and the merge
 * stage's identity follows its inputs — a re-run with nothing changed is a cache hit, a
 * re-trained adapter (another learning rate) is merged again.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { records, runCli, tempDir } from "./cli.ts"

interface Stage { readonly status: string; readonly outputHash?: string }
const runOnce = async (cache: string, overrides: ReadonlyArray<string> = []) => {
  const runsDir = tempDir("merge-runs")
  const result = await runCli(["run", "recipes/examples/merge.yaml", ...overrides, "--runs-dir", runsDir], { REFINE_AF_CACHE: cache })
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
  const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as { stages: Record<string, Stage> }
  const [record] = records(runDir, "merged") as [Record<string, unknown>]
  return { result, runDir, stages: manifest.stages, record }
}

describe("recipes/examples/merge.yaml", () => {
  it("writes the merged folder, lists it, caches it, and re-merges a re-trained adapter", async () => {
    const cache = tempDir("merge-cache")
    const first = await runOnce(cache)
    expect(first.stages["merged"]!.status).toBe("completed")
    const model = path.join(first.runDir, "stages/merged/model")
    for (const file of ["config.json", "model.safetensors", "tokenizer.json", "generation_config.json"]) expect(fs.existsSync(path.join(model, file)), file).toBe(true)
    expect(first.record).toMatchObject({ folder: "model", adapterStage: "sft", adapterHash: first.stages["sft"]!.outputHash, mergedModules: 12 })
    expect(first.result.stdout).toMatch(/model \(merged\):\s+\S*stages\/merged\/model/)

    const again = await runOnce(cache)
    expect(again.stages["merged"]!.status).toBe("cached")
    expect(again.stages["merged"]!.outputHash).toBe(first.stages["merged"]!.outputHash)

    const retrained = await runOnce(cache, ["stages.sft.lr=0.003"])
    expect(retrained.stages["sft"]!.status).toBe("completed")
    expect(retrained.stages["merged"]!.status).toBe("completed")
    expect(retrained.record["adapterHash"]).not.toBe(first.record["adapterHash"])
    expect(retrained.stages["merged"]!.outputHash).not.toBe(first.stages["merged"]!.outputHash)
  }, 240_000)
})
