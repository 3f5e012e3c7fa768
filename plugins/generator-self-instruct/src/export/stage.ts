/**
 * `self-instruct/export-hf` — writes the instance dataset as a Hugging Face
 * datasets folder in the stage folder: `data/train.jsonl` (Alpaca rows:
 * instruction, input, output; config `default`), the same rows in TRL's
 * conversational and prompt-completion formats (`data/messages/train.jsonl`,
 * `data/prompt_completion/train.jsonl`; option `formats`), `README.md`
 * (dataset card with front matter, configs, features and provenance) and
 * `provenance.json`. Emits one summary record (`folder`
 * is ".": the stage folder itself, so the record is the same in every run folder). The files
 * are rewritten in full on every (re)run, so resume needs no bookkeeping.
 *
 * @example
 * ```yaml
 * export: { _component_: self-instruct/export-hf, dataset: dataset, name: my-data, license: cc-by-4.0 }
 * ```
 */
import { readFileSync } from "node:fs"
import { mkdir, rename, writeFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { defineStage, StageError, type StageContext } from "@refine-af/core"
import { datasetCard, formatPath } from "./card.ts"
import { alpacaPrompt, alpacaUserTurn, type AlpacaFields } from "@refine-af/text"
import { ExportOptions, type ExportFormat } from "./options.ts"
import { filterCountsFile } from "../instances/stage.ts"
import { provenanceOf, type Provenance } from "./provenance.ts"

const writeAtomic = async (path: string, text: string) => {
  await mkdir(nodePath.dirname(path), { recursive: true })
  await writeFile(`${path}.tmp`, text)
  await rename(`${path}.tmp`, path)
}

/**
 * The instances stage's own filter totals (`filter-counts.json` in its folder) in place of the
 * rows' per-task decisions, which miss every task that kept no row; the rows' sums where the
 * upstream folder has no such file (another stage, or an instances stage cached before it wrote one).
 */
const withStageTotals = (provenance: Provenance, upstreamDir: string): Provenance => {
  try {
    const totals = JSON.parse(readFileSync(nodePath.join(upstreamDir, filterCountsFile), "utf8")) as unknown
    if (typeof totals !== "object" || totals === null || Array.isArray(totals)) return provenance
    const numbers = Object.entries(totals).filter((entry): entry is [string, number] => typeof entry[1] === "number")
    return numbers.length === 0 ? provenance : { ...provenance, instanceFilters: Object.fromEntries(numbers) }
  } catch {
    return provenance
  }
}

/** The Alpaca rows' file (the dataset's `default` config). */
const ALPACA_FILE = "data/train.jsonl"

/** One Alpaca record in each format, as TRL's SFTTrainer reads it. */
const formatRow: Record<ExportFormat, (record: AlpacaFields & { readonly output: string }) => unknown> = {
  messages: (record) => ({ messages: [{ role: "user", content: alpacaUserTurn(record) }, { role: "assistant", content: record.output }] }),
  prompt_completion: (record) => ({ prompt: alpacaPrompt(record), completion: record.output })
}

const run = (ctx: StageContext<ExportOptions, {}>) =>
  Effect.gen(function* () {
    const upstream = ctx.inputs["dataset"]
    if (upstream === undefined) {
      return yield* new StageError({ stage: ctx.name, message: "the input port `dataset` is not connected", fix: "add `dataset: <instances stage name>` to this stage in the recipe" })
    }
    const rows = yield* upstream.readAll().pipe(Effect.mapError((error) => new StageError({ stage: ctx.name, message: `cannot read the dataset: ${error.message}`, fix: "finish or resume the upstream stage first" })))
    const bad = rows.findIndex((row) => typeof row["instruction"] !== "string" || typeof row["output"] !== "string")
    if (bad >= 0) {
      return yield* new StageError({ stage: ctx.name, message: `dataset record ${bad} has no "instruction"/"output" strings`, fix: "connect `dataset` to a self-instruct/instances stage (Alpaca rows)" })
    }
    const provenance = withStageTotals(provenanceOf(rows, { seed: ctx.seed, upstreamStage: upstream.stage, upstreamHash: upstream.hash }), upstream.dir)
    const records = rows.map((row) => ({ instruction: row["instruction"] as string, input: typeof row["input"] === "string" ? row["input"] : "", output: row["output"] as string }))
    if (records.length === 0) yield* ctx.events.warn(`${ctx.name}: the dataset is empty (no instance survived the filters upstream); the folder is written, with the features in its card, but there is nothing to train on`)
    const files = [ALPACA_FILE, ...ctx.options.formats.map(formatPath)]
    const jsonl = (lines: ReadonlyArray<unknown>) => lines.map((line) => `${JSON.stringify(line)}\n`).join("")
    yield* Effect.tryPromise({
      try: async () => {
        await writeAtomic(nodePath.join(ctx.dir, ALPACA_FILE), jsonl(records))
        for (const format of ctx.options.formats) await writeAtomic(nodePath.join(ctx.dir, formatPath(format)), jsonl(records.map(formatRow[format])))
        await writeAtomic(nodePath.join(ctx.dir, "provenance.json"), JSON.stringify({ ...provenance, notes: ctx.options.notes }, null, 1) + "\n")
        await writeAtomic(nodePath.join(ctx.dir, "README.md"), datasetCard(ctx.options, provenance))
      },
      catch: (error) => new StageError({ stage: ctx.name, message: `cannot write the dataset folder ${ctx.dir}: ${(error as Error).message}`, fix: "check that the run folder is writable and the disk has space" })
    })
    yield* ctx.events.metric("rows", rows.length)
    if (ctx.output.resumedCount === 0) yield* ctx.output.append([{ folder: ".", rows: rows.length, instructions: provenance.instructions, files: [...files, "README.md", "provenance.json"] }])
    yield* ctx.output.checkpoint()
  })

/** The export stage component. */
export const exportHfStage = defineStage({
  role: "transform",
  description: "Writes the instance dataset as a Hugging Face datasets folder: Alpaca rows (data/train.jsonl), the same rows in TRL's conversational and prompt-completion formats (data/<format>/train.jsonl), a dataset card README.md with configs, features and provenance, provenance.json.",
  deterministic: true,
  options: ExportOptions,
  inputs: { dataset: { description: "Alpaca rows with lineage (from self-instruct/instances)" } },
  uses: {},
  run
})
