/**
 * `self-instruct/export-hf`: the datasets folder (JSONL rows, card front
 * matter, provenance from lineage with per-task filter decisions counted
 * once), idempotent on resume, and a clear error for non-Alpaca input.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Exit, Schema } from "effect"
import { parse as parseYaml } from "yaml"
import { alpacaPrompt } from "@refine-af/text"
import { describe, expect, it } from "vitest"
import type { JsonRecord } from "@refine-af/core"
import selfInstruct, { ExportOptions, exportHfStage } from "../src/index.ts"
import { memoryContext, memoryInput, memoryWriter } from "./support/memoryContext.ts"
import { runStage, runStageOk } from "./support/runStage.ts"

const decode = (options: Record<string, unknown>) => Schema.decodeUnknownSync(ExportOptions)(options)
const lineage = (task: number, index: number, model: string): JsonRecord => ({
  task_index: task, instance_index: index, template: "input-first/v1", model,
  sampling: { maxNewTokens: 48, temperature: 0, seed: 100 + task },
  filters: { parsed: 3, unparsable: 1, kept: 2, rejected: { too_long: 1 } }
})
const rows: Array<JsonRecord> = [
  { instruction: "Sort the numbers.", input: "3, 1", output: "1, 3", lineage: lineage(0, 0, "model-a") },
  { instruction: "Sort the numbers.", input: "9, 4", output: "4, 9", lineage: lineage(0, 1, "model-a") },
  { instruction: "Name a colour.", input: "", output: "Teal", lineage: lineage(1, 0, "model-b") }
]

describe("self-instruct/export-hf", () => {
  it("is a component of the plugin (usable in recipes as self-instruct/export-hf)", () => {
    expect((selfInstruct.components as Record<string, unknown>)["export-hf"]).toBe(exportHfStage)
  })

  it("writes data/train.jsonl, a dataset card with front matter and provenance, and provenance.json", async () => {
    const { ctx, output } = memoryContext({ options: decode({ name: "tiny-set", license: "cc-by-4.0", notes: { reward_preset: "paper" } }), uses: {}, inputs: { dataset: memoryInput("dataset", rows) }, seed: 77 })
    await runStageOk(exportHfStage, ctx)
    const lines = readFileSync(nodePath.join(ctx.dir, "data/train.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(lines).toEqual(rows.map(({ instruction, input, output }) => ({ instruction, input, output })))
    const card = readFileSync(nodePath.join(ctx.dir, "README.md"), "utf8")
    expect(card).toMatch(/^---\npretty_name: "tiny-set"\nlicense: "cc-by-4.0"\n/)
    expect(card).toContain("    path: data/train.jsonl")
    expect(card).toContain("- n<1K")
    expect(card).toContain("3 rows (2 distinct instructions)")
    expect(card).toContain("- `model-a`\n- `model-b`")
    expect(card).toContain("- reward_preset: paper")
    const provenance = JSON.parse(readFileSync(nodePath.join(ctx.dir, "provenance.json"), "utf8"))
    // Per-task decisions are repeated on each row of the task; they count once per task (2 tasks).
    expect(provenance.instanceFilters).toEqual({ parsed: 6, unparsable: 2, kept: 4, rejected_too_long: 2 })
    expect(provenance).toMatchObject({ rows: 3, seed: 77, upstreamStage: "dataset", upstreamHash: "memory-dataset", templates: ["input-first/v1"] })
    // The request seed is per task; the shared sampling settings are listed once.
    expect(provenance.sampling).toEqual([{ maxNewTokens: 48, temperature: 0 }])
    expect(output.committed).toEqual([expect.objectContaining({ rows: 3, instructions: 2 })])
  })

  it("writes TRL's conversational and prompt-completion formats as configs of their own, with every config's features in the card", async () => {
    const { ctx, output } = memoryContext({ options: decode({}), uses: {}, inputs: { dataset: memoryInput("dataset", rows) } })
    await runStageOk(exportHfStage, ctx)
    const read = (file: string) => readFileSync(nodePath.join(ctx.dir, file), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(read("data/messages/train.jsonl")).toEqual([
      { messages: [{ role: "user", content: "Sort the numbers.\n\n3, 1" }, { role: "assistant", content: "1, 3" }] },
      { messages: [{ role: "user", content: "Sort the numbers.\n\n9, 4" }, { role: "assistant", content: "4, 9" }] },
      { messages: [{ role: "user", content: "Name a colour." }, { role: "assistant", content: "Teal" }] }
    ])
    const prompts = read("data/prompt_completion/train.jsonl")
    expect(prompts.map((row) => row.completion)).toEqual(["1, 3", "4, 9", "Teal"])
    expect(prompts[0].prompt).toBe("Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nSort the numbers.\n\n### Input:\n3, 1\n\n### Response:\n")
    expect(prompts[2].prompt).toBe(alpacaPrompt({ instruction: "Name a colour.", input: "" }))
    expect(prompts[2].prompt).not.toContain("### Input:")
    const front = parseYaml(readFileSync(nodePath.join(ctx.dir, "README.md"), "utf8").split("---\n")[1]!) as Record<string, any>
    expect(front.configs).toEqual([
      { config_name: "default", data_files: [{ split: "train", path: "data/train.jsonl" }] },
      { config_name: "messages", data_files: [{ split: "train", path: "data/messages/train.jsonl" }] },
      { config_name: "prompt_completion", data_files: [{ split: "train", path: "data/prompt_completion/train.jsonl" }] }
    ])
    expect(front.dataset_info).toEqual([
      { config_name: "default", features: ["instruction", "input", "output"].map((name) => ({ name, dtype: "string" })) },
      { config_name: "messages", features: [{ name: "messages", list: [{ name: "role", dtype: "string" }, { name: "content", dtype: "string" }] }] },
      { config_name: "prompt_completion", features: ["prompt", "completion"].map((name) => ({ name, dtype: "string" })) }
    ])
    expect(output.committed[0]!.files).toEqual(["data/train.jsonl", "data/messages/train.jsonl", "data/prompt_completion/train.jsonl", "README.md", "provenance.json"])

    // formats: [] writes the Alpaca rows alone.
    const alone = memoryContext({ options: decode({ formats: [] }), uses: {}, inputs: { dataset: memoryInput("dataset", rows) } })
    await runStageOk(exportHfStage, alone.ctx)
    const aloneFront = parseYaml(readFileSync(nodePath.join(alone.ctx.dir, "README.md"), "utf8").split("---\n")[1]!) as Record<string, any>
    expect(aloneFront.configs.map((c: { config_name: string }) => c.config_name)).toEqual(["default"])
    expect(() => decode({ formats: ["messages", "messages"] })).toThrow(/twice/)
  })

  it("an empty dataset is written with a warning; its card still gives the features (datasets cannot infer them from empty files)", async () => {
    const { ctx, events } = memoryContext({ options: decode({}), uses: {}, inputs: { dataset: memoryInput("dataset", []) } })
    await runStageOk(exportHfStage, ctx)
    expect(readFileSync(nodePath.join(ctx.dir, "data/train.jsonl"), "utf8")).toBe("")
    expect(readFileSync(nodePath.join(ctx.dir, "data/messages/train.jsonl"), "utf8")).toBe("")
    expect(events.filter((event) => event.type === "warn").map((event) => String(event.data["message"])).join("\n")).toContain("the dataset is empty")
    const front = parseYaml(readFileSync(nodePath.join(ctx.dir, "README.md"), "utf8").split("---\n")[1]!) as Record<string, any>
    expect(front.dataset_info[0].features.map((f: { name: string }) => f.name)).toEqual(["instruction", "input", "output"])
  })

  it("a licence with no SPDX id goes in the card as the Hub reads it (license: other, license_name, license_link); without license: other it is refused", async () => {
    const { ctx } = memoryContext({ options: decode({ license: "other", licenseName: "llama2", licenseLink: "https://ai.meta.com/llama/license/" }), uses: {}, inputs: { dataset: memoryInput("dataset", rows) } })
    await runStageOk(exportHfStage, ctx)
    const card = readFileSync(nodePath.join(ctx.dir, "README.md"), "utf8")
    expect(card).toMatch(/^---\npretty_name: "refine-af-instructions"\nlicense: "other"\nlicense_name: "llama2"\nlicense_link: "https:\/\/ai\.meta\.com\/llama\/license\/"\nlanguage:\n/)
    expect(() => decode({ license: "cc-by-4.0", licenseName: "llama2" })).toThrow(/need license: other \(license is "cc-by-4.0"\)/)
    expect(() => decode({ license: "other", licenseName: "Llama 2" })).toThrow()
  })

  it("the card's filter counts are the instances stage's totals when its folder has them (a task that kept no row left no lineage)", async () => {
    const upstream = mkdtempSync(nodePath.join(tmpdir(), "export-upstream-"))
    const totals = { tasks: 3, parsed: 9, unparsable: 2, kept: 4, too_long: 3, empty_tasks: 1 }
    writeFileSync(nodePath.join(upstream, "filter-counts.json"), JSON.stringify(totals))
    const { ctx } = memoryContext({ options: decode({}), uses: {}, inputs: { dataset: memoryInput("dataset", rows, upstream) } })
    await runStageOk(exportHfStage, ctx)
    expect(JSON.parse(readFileSync(nodePath.join(ctx.dir, "provenance.json"), "utf8")).instanceFilters).toEqual(totals)
    expect(readFileSync(nodePath.join(ctx.dir, "README.md"), "utf8")).toContain("| empty_tasks | 1 |")
  })

  it("rewrites the same files on resume without a second summary record", async () => {
    const first = memoryContext({ options: decode({}), uses: {}, inputs: { dataset: memoryInput("dataset", rows) } })
    await runStageOk(exportHfStage, first.ctx)
    const before = readFileSync(nodePath.join(first.ctx.dir, "README.md"), "utf8")
    const resumed = memoryContext({ options: decode({}), uses: {}, inputs: { dataset: memoryInput("dataset", rows) }, dir: first.ctx.dir, output: memoryWriter(first.output.committed) })
    await runStageOk(exportHfStage, resumed.ctx)
    expect(readFileSync(nodePath.join(first.ctx.dir, "README.md"), "utf8")).toBe(before)
    expect(resumed.output.committed).toHaveLength(1)
  })

  it("names the fix when the input is not Alpaca rows", async () => {
    const { ctx } = memoryContext({ options: decode({}), uses: {}, inputs: { dataset: memoryInput("x", [{ text: "no instruction" }]) } })
    const exit = await runStage(exportHfStage, ctx)
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") : undefined
    expect(error?._tag === "Fail" ? (error.error as { fix: string }).fix : "").toMatch(/self-instruct\/instances/)
  })
})
