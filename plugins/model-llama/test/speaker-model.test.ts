/**
 * `builtin: speaker` serves the committed trained model folder (no writing,
 * no cache folder), loads as a Llama with its own small tokenizer, and
 * rejects options that only apply to the random presets.
 */
import { statSync } from "node:fs"
import * as nodePath from "node:path"
import { loadModelFolder, loadTokenizer } from "@refine-af/models"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { speakerModelFolder } from "../src/index.ts"
import { modelFolder } from "../src/builtin/model-source.ts"

describe("built-in speaker model", () => {
  it("resolves builtin: speaker and { preset: speaker } to the committed folder, which loads", async () => {
    expect(await Effect.runPromise(modelFolder({ builtin: "speaker" }))).toBe(speakerModelFolder())
    expect(await Effect.runPromise(modelFolder({ builtin: { preset: "speaker" } }))).toBe(speakerModelFolder())
    const model = await Effect.runPromise(loadModelFolder(speakerModelFolder()))
    expect(model.config.architecture).toBe("llama")
    expect(model.config.vocabSize).toBe(2048)
    expect(statSync(nodePath.join(speakerModelFolder(), "model.safetensors")).size).toBeLessThan(25_000_000)
    const tokenizer = await Effect.runPromise(loadTokenizer(speakerModelFolder()))
    const text = "Task: Sort the numbers.\nClassification: No"
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text)
    expect(Math.max(...tokenizer.encode(text))).toBeLessThan(2048)
  })

  it("refuses a seed or cache folder for the trained model, naming the fix", async () => {
    const error = await Effect.runPromise(Effect.flip(modelFolder({ builtin: { preset: "speaker", seed: 3 } })))
    expect(error._tag).toBe("ModelSourceError")
    expect(error.message).toMatch(/do not apply to the trained "speaker" model/)
    expect(error.fix).toMatch(/Remove them/)
  })
})
