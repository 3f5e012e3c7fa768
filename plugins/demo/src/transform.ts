/**
 * `demo/transform`: rewrites the `text` field of every input record
 * (uppercase, lowercase, reverse, word count suffix). Streams its input and
 * skips the records already committed by an interrupted attempt.
 */
import { Effect, Schema, Stream } from "effect"
import { defineStage, type JsonRecord } from "@refine-af/core"

/** Text operations of `demo/transform`. */
export const TransformOperation = Schema.Literals(["uppercase", "lowercase", "reverse", "reverse_words"])

/** Options of `demo/transform`. */
export const TransformOptions = Schema.Struct({
  operation: TransformOperation.annotate({ description: "What to do to each record's `text`." }),
  delay_ms: Schema.optionalKey(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))).annotate({ description: "Sleep this long per record (so tests can interrupt the stage mid-way)." })
})

/** Applies one operation to a text. */
export const applyOperation = (operation: typeof TransformOperation.Type, text: string): string => {
  switch (operation) {
    case "uppercase":
      return text.toUpperCase()
    case "lowercase":
      return text.toLowerCase()
    case "reverse":
      return Array.from(text).reverse().join("")
    case "reverse_words":
      return text.split(/\s+/).reverse().join(" ")
  }
}

/** The `demo/transform` component. */
export const transform = defineStage({
  role: "transform",
  description: "Applies a text operation (uppercase, lowercase, reverse, reverse_words) to each record's `text`.",
  deterministic: true,
  options: TransformOptions,
  inputs: { records: { description: "records with a string `text` field" } },
  run: (ctx) =>
    Effect.gen(function*() {
      const input = ctx.inputs["records"]!
      const delayMs = ctx.options.delay_ms ?? 0
      let done = ctx.output.resumedCount
      yield* input.records().pipe(
        Stream.drop(ctx.output.resumedCount),
        Stream.grouped(delayMs > 0 ? 1 : 256),
        Stream.runForEach((group) =>
          Effect.gen(function*() {
            if (delayMs > 0) yield* Effect.sleep(delayMs)
            const out: Array<JsonRecord> = group.map((record) => ({
              ...record,
              text: applyOperation(ctx.options.operation, typeof record["text"] === "string" ? record["text"] : String(record["text"]))
            }))
            yield* ctx.output.append(out)
            done += out.length
            yield* ctx.events.progress(done, input.count)
          })
        )
      )
    })
})
