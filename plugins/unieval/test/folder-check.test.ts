/** `validate` looks into a UniEval folder: the files the T5 loader reads must be there. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathOptions } from "@refine-af/core"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { checkUniEvalFolder, UniEvalResourceOptions } from "../src/index.ts"

const folderWith = (files: ReadonlyArray<string>): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "unieval-check-"))
  for (const file of files) fs.writeFileSync(path.join(dir, file), "")
  return dir
}

describe("checkUniEvalFolder", () => {
  it("names every missing file of an empty folder, with the download command", () => {
    const found = checkUniEvalFolder(folderWith([]))
    expect(found?.problem).toContain("has no config.json, weights (model.safetensors or pytorch_model.bin), tokenizer.json")
    expect(found?.fix).toContain("refine-af models pull MingZhong/unieval-dialog")
  })

  it("a folder with only SentencePiece's spiece.model is told how to write tokenizer.json", () => {
    const found = checkUniEvalFolder(folderWith(["config.json", "pytorch_model.bin", "spiece.model"]))
    expect(found?.problem).toMatch(/has no tokenizer\.json$/)
    expect(found?.fix).toContain("spiece.model")
  })

  it("accepts safetensors or a .bin with config.json and tokenizer.json", () => {
    for (const weights of ["model.safetensors", "pytorch_model.bin"]) {
      expect(checkUniEvalFolder(folderWith(["config.json", weights, "tokenizer.json"])), weights).toBeUndefined()
    }
  })

  it("is the check validate runs on the resource's path option", () => {
    const options = Schema.decodeUnknownSync(UniEvalResourceOptions)({ path: "models/unieval-dialog" })
    const [option] = pathOptions(UniEvalResourceOptions, options, "/recipes")
    expect(option).toMatchObject({ at: ["path"], kind: "dir", absolute: "/recipes/models/unieval-dialog" })
    expect(option?.check).toBe(checkUniEvalFolder)
  })
})
