/**
 * `demo/lines`: a generator that emits `count` records `{ index, text }`, either
 * cycling through given `lines` or writing seeded pseudo-random word lines.
 * `delay_ms` slows it down per record so tests can kill it mid-stream.
 * Deterministic: record i depends only on the stage seed and i, so a resumed
 * run continues exactly where the committed records stop. `fail_at` makes it
 * fail on purpose at a record index (tests of failure reporting and exit codes).
 */
import { Effect, Schema } from "effect"
import { defineStage, seededRandom, seedFor, StageError, type JsonRecord } from "@refine-af/core"

const vocabulary = [
  "apple", "river", "quiet", "stone", "bright", "cloud", "seven", "paper", "garden", "lamp",
  "winter", "orange", "silver", "window", "forest", "market", "candle", "bridge", "ocean", "pencil"
] as const

/** Options of `demo/lines`. */
export const LinesOptions = Schema.Struct({
  count: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))).annotate({ description: "Records to emit (default: the number of `lines`, else 100)." }),
  lines: Schema.optionalKey(Schema.Array(Schema.String)).annotate({ description: "Texts to cycle through (default: seeded random word lines)." }),
  words_per_line: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))).annotate({ description: "Words per generated line (default 6)." }),
  delay_ms: Schema.optionalKey(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))).annotate({ description: "Sleep this long per record (so tests can interrupt the stage mid-way)." }),
  /** Fail with a StageError on reaching this record index (to test failure handling). */
  fail_at: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))).annotate({ description: "Fail with a StageError on reaching this record index (to test failure handling)." })
})

/** The text of record `index` for a generated (not listed) line. */
export const generatedLine = (seed: number, index: number, wordsPerLine: number): string => {
  const random = seededRandom(seedFor(seed, index))
  return Array.from({ length: wordsPerLine }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(" ")
}

/** Records are appended in batches of this size when there is no delay. */
const batchSize = 256

/** The `demo/lines` generator component. */
export const lines = defineStage({
  role: "generator",
  description: "Emits `count` text records from a list (`lines`) or a seeded word generator; `delay_ms` per record.",
  deterministic: true,
  options: LinesOptions,
  run: (ctx) =>
    Effect.gen(function*() {
      const listed = ctx.options.lines
      const count = ctx.options.count ?? listed?.length ?? 100
      const wordsPerLine = ctx.options.words_per_line ?? 6
      const delayMs = ctx.options.delay_ms ?? 0
      const textOf = (index: number) =>
        listed !== undefined && listed.length > 0 ? listed[index % listed.length]! : generatedLine(ctx.seed, index, wordsPerLine)
      let index = ctx.output.resumedCount
      while (index < count) {
        if (ctx.options.fail_at !== undefined && index >= ctx.options.fail_at) {
          return yield* new StageError({
            stage: ctx.name,
            message: `failing at record ${index} because the recipe sets fail_at: ${ctx.options.fail_at}`,
            fix: `remove fail_at from stage "${ctx.name}" or raise it above count`
          })
        }
        const size = delayMs > 0 ? 1 : Math.min(batchSize, count - index, (ctx.options.fail_at ?? Infinity) - index)
        const batch: Array<JsonRecord> = []
        for (let offset = 0; offset < size; offset++) batch.push({ index: index + offset, text: textOf(index + offset) })
        if (delayMs > 0) yield* Effect.sleep(delayMs)
        yield* ctx.output.append(batch)
        index += size
        yield* ctx.events.progress(index, count)
      }
      return { metrics: { records: count } }
    })
})
