/**
 * `demo/count`: an evaluator that counts records, words and characters of its
 * input, writes `report.json` into its folder and reports the counts as
 * metrics. It appends no records.
 */
import { Effect, Schema, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { defineStage, StageError } from "@refine-af/core"

/** Options of `demo/count`. */
export const CountOptions = Schema.Struct({
  /** Sleep this long per record (so tests can interrupt the stage mid-way). */
  delay_ms: Schema.optionalKey(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))).annotate({ description: "Sleep this long per record (so tests can interrupt the stage mid-way)." })
})

/** The `demo/count` evaluator component. */
export const count = defineStage({
  role: "evaluator",
  description: "Counts records, words and characters of its input; writes report.json and metrics.",
  deterministic: true,
  options: CountOptions,
  inputs: { records: { description: "records with a string `text` field" } },
  run: (ctx) =>
    Effect.gen(function*() {
      const delayMs = ctx.options.delay_ms ?? 0
      const totals = yield* ctx.inputs["records"]!.records().pipe(
        Stream.tap(() => (delayMs > 0 ? Effect.sleep(delayMs) : Effect.void)),
        Stream.runFold(
          () => ({ records: 0, words: 0, chars: 0 }),
          (acc, record) => {
            const text = typeof record["text"] === "string" ? record["text"] : ""
            acc.records += 1
            acc.words += text.split(/\s+/).filter((word) => word.length > 0).length
            acc.chars += text.length
            return acc
          }
        )
      )
      const metrics = { ...totals, mean_words: totals.records === 0 ? 0 : totals.words / totals.records }
      yield* Effect.try({
        try: () => fs.writeFileSync(path.join(ctx.dir, "report.json"), `${JSON.stringify(metrics, null, 2)}\n`),
        catch: (cause) => new StageError({ stage: ctx.name, message: `cannot write report.json: ${String(cause)}`, fix: "check free disk space and permissions of the run directory" })
      })
      for (const [name, value] of Object.entries(metrics)) yield* ctx.events.metric(name, value)
      return { metrics }
    })
})
