/**
 * `llama/merge`: the stage writes the merged folder of a trainer stage's adapter and its base
 * (the speaker) — the same weights `writeMergedModel` writes, checked in write-merged.test.ts —
 * and refuses a stage folder without an adapter, naming it.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { loadModelFolder } from "@refine-af/models"
import { memoryInput, memoryStageContext, memoryWriter, runStageExit } from "@refine-af/testing"
import { Cause, Effect, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { initLoraAdapter, MergeStageOptions, mergeStage, speakerModelFolder, writeAdapter } from "../src/index.ts"

const runMerge = async (adapterStageDir: string) => {
  const output = memoryWriter()
  const { ctx } = memoryStageContext({
    name: "merged",
    options: Schema.decodeUnknownSync(MergeStageOptions)({ builtin: "speaker" }),
    uses: {},
    inputs: { adapter: memoryInput("sft", [], adapterStageDir) },
    output
  })
  return { exit: await runStageExit(mergeStage, ctx), dir: ctx.dir, records: output.committed }
}

describe("llama/merge", () => {
  it("writes a plain Hugging Face folder of base + adapter in <stage dir>/model", { timeout: 240_000 }, async () => {
    const config = (await Effect.runPromise(loadModelFolder(speakerModelFolder()))).config
    const stageDir = mkdtempSync(nodePath.join(tmpdir(), "refine-af-merge-sft-"))
    let state = 3
    const uniform = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648)
    const adapter = initLoraAdapter({ r: 2, alpha: 4, dropout: 0, targetModules: ["v_proj"], useRsLora: false, baseModelNameOrPath: null }, config, uniform)
    await Effect.runPromise(writeAdapter(nodePath.join(stageDir, "adapter"), adapter))
    const { exit, dir, records } = await runMerge(stageDir)
    expect(Exit.isSuccess(exit), Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "").toBe(true)
    expect(records).toEqual([{ folder: "model", adapterStage: "sft", mergedModules: config.numLayers }])
    for (const file of ["config.json", "model.safetensors", "tokenizer.json"]) expect(existsSync(nodePath.join(dir, "model", file)), file).toBe(true)
    expect(JSON.parse(readFileSync(nodePath.join(dir, "model", "config.json"), "utf8")).torch_dtype).toBe("float32")
    expect((await Effect.runPromise(loadModelFolder(nodePath.join(dir, "model")))).config.numLayers).toBe(config.numLayers)
  })

  it("refuses a stage folder without an adapter, naming the folder and the fix", { timeout: 60_000 }, async () => {
    const empty = mkdtempSync(nodePath.join(tmpdir(), "refine-af-merge-empty-"))
    const { exit } = await runMerge(empty)
    expect(Exit.isFailure(exit)).toBe(true)
    const text = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
    expect(text).toContain(`stage "sft" wrote no PEFT adapter at ${nodePath.join(empty, "adapter")}`)
  })
})
