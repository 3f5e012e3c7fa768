/** `validate` looks into a reward-model folder: the files the loader reads must be there. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathOptions } from "@refine-af/core"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { checkRewardModelFolder, RewardModelResourceOptions } from "../src/index.ts"

const folderWith = (files: ReadonlyArray<string>): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reward-model-check-"))
  for (const file of files) fs.writeFileSync(path.join(dir, file), "")
  return dir
}

describe("checkRewardModelFolder", () => {
  it("names every missing file of an empty folder, with the download command", () => {
    const found = checkRewardModelFolder(folderWith([]))
    expect(found?.problem).toContain("has no config.json, weights (model.safetensors or pytorch_model.bin), tokenizer.json")
    expect(found?.fix).toContain("refine-af models pull OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5")
  })

  it("names only what is missing", () => {
    expect(checkRewardModelFolder(folderWith(["config.json", "pytorch_model.bin"]))?.problem).toMatch(/has no tokenizer\.json$/)
  })

  it("accepts safetensors, a sharded index or a .bin with config.json and tokenizer.json", () => {
    for (const weights of ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"]) {
      expect(checkRewardModelFolder(folderWith(["config.json", weights, "tokenizer.json"])), weights).toBeUndefined()
    }
  })

  it("is the check validate runs on the resource's path option", () => {
    const options = Schema.decodeUnknownSync(RewardModelResourceOptions)({ path: "models/rm" })
    const [option] = pathOptions(RewardModelResourceOptions, options, "/recipes")
    expect(option).toMatchObject({ at: ["path"], kind: "dir", absolute: "/recipes/models/rm" })
    expect(option?.check).toBe(checkRewardModelFolder)
  })
})
