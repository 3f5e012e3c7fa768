/**
 * Exported adapters name their base as Python loads it (`base_model_name_or_path`, `revision` in
 * adapter_config.json): the Hub repo a pulled folder came from, else the folder itself. PEFT's
 * `AutoPeftModelForCausalLM.from_pretrained(adapter_dir)` and transformers' adapter loading read
 * the base from there; our content id in that field made both fail.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { PULL_RECORD } from "@refine-af/models"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadLlama } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"
import { tinyModel } from "./support/tiny-model.ts"

const lora = { rank: 2, alpha: 4, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj"] }

const exportedConfig = (folder: string) =>
  runScoped(Effect.gen(function* () {
    const backend = yield* cpuBackend
    const { policy } = yield* loadLlama(folder, backend, { contextLength: 32 })
    const session = yield* policy.session({ lora, seed: 1 })
    const dir = mkdtempSync(nodePath.join(tmpdir(), "adapter-base-"))
    yield* session.exportAdapter(dir)
    return JSON.parse(readFileSync(nodePath.join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>
  }))

describe("exported adapters' base_model_name_or_path", () => {
  it("is the folder for a model that was not pulled, with no revision", async () => {
    const folder = tinyModel("llama")
    expect(await exportedConfig(folder)).toMatchObject({ base_model_name_or_path: nodePath.resolve(folder), revision: null })
  }, 120_000)

  it("is the Hub repo (and revision, unless main) for a folder `models pull` wrote", async () => {
    const pulled = (revision: string) => {
      const folder = mkdtempSync(nodePath.join(tmpdir(), "pulled-"))
      cpSync(tinyModel("llama"), folder, { recursive: true })
      writeFileSync(nodePath.join(folder, PULL_RECORD), JSON.stringify({ source: "https://huggingface.co/meta-llama/Llama-2-7b-hf", revision, files: {} }))
      return folder
    }
    expect(await exportedConfig(pulled("main"))).toMatchObject({ base_model_name_or_path: "meta-llama/Llama-2-7b-hf", revision: null })
    expect(await exportedConfig(pulled("01c7f73d771dfac7d292323805ebc428287df4f9"))).toMatchObject({ base_model_name_or_path: "meta-llama/Llama-2-7b-hf", revision: "01c7f73d771dfac7d292323805ebc428287df4f9" })
  }, 120_000)
})
