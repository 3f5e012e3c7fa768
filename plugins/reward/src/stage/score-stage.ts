/**
 * `reward/score`: scores samples with any `Scorer` (usually a `reward/composite`)
 * and writes each input record with `score` and its breakdown `score_parts`.
 * Samples come from an upstream stage (`records`) or a JSONL file (`path`,
 * relative to the recipe). Scores in batches; resumes after the last durable
 * record. Metrics: `scored`, `mean_score`, and the mean of every part.
 *
 * @example
 * ```yaml
 * stages:
 *   scored: { _component_: reward/score, path: samples.jsonl, scorer: reward, batch_size: 16 }
 * ```
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import { decodeTextFile, defineStage, type JsonRecord, RecipePath, type Sample, Scorer, StageError, withDefault } from "@refine-af/core"
import { parseSampleLines, SampleFileError, sampleOf, type SampleFields } from "./read-samples.ts"


/** Options of `reward/score`. */
export const ScoreOptions = Schema.Struct({
  /** A JSONL file of samples (relative to the recipe); omit to score the `records` input. */
  path: Schema.optionalKey(RecipePath("file", "JSONL file of samples, relative to the recipe's folder")).annotate({ description: "A JSONL file of samples (relative to the recipe); omit to score the `records` input." }),
  /** Samples per scorer call. */
  batch_size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "Samples per scorer call." }).pipe(withDefault(16)),
  instruction_field: Schema.String.annotate({ description: "Record field holding the instruction." }).pipe(withDefault("instruction")),
  input_field: Schema.String.annotate({ description: "Record field holding the input." }).pipe(withDefault("input")),
  output_field: Schema.String.annotate({ description: "Record field holding the output." }).pipe(withDefault("output"))
})

const stageError = (stage: string, error: unknown) =>
  error instanceof SampleFileError
    ? new StageError({ stage, message: error.message, fix: error.fix })
    : new StageError({ stage, message: String(error), fix: "check the sample file path and permissions" })

/** The `reward/score` stage component. */
export const score = defineStage({
  role: "evaluator",
  description: "Scores (instruction, input, output) samples from a JSONL file or an upstream stage with a Scorer; writes score and score_parts per record.",
  deterministic: true,
  options: ScoreOptions,
  inputs: { records: { description: "records with instruction / input / output fields (or set path)", optional: true } },
  uses: { scorer: Scorer },
  run: (ctx) =>
    Effect.gen(function*() {
      const fields: SampleFields = {
        instruction: ctx.options.instruction_field,
        input: ctx.options.input_field,
        output: ctx.options.output_field
      }
      const upstream = ctx.inputs["records"]
      if ((ctx.options.path === undefined) === (upstream === undefined)) {
        return yield* new StageError({ stage: ctx.name, message: "reward/score needs exactly one sample source", fix: "set either path: <file.jsonl> or records: <stage>" })
      }
      const rows: Array<{ readonly record: JsonRecord; readonly sample: Sample }> = []
      if (ctx.options.path !== undefined) {
        const file = ctx.options.path
        const bytes = yield* Effect.try({ try: () => fs.readFileSync(file), catch: (e) => stageError(ctx.name, e) })
        const decoded = decodeTextFile(bytes)
        if ("problem" in decoded) return yield* new StageError({ stage: ctx.name, message: `${file} ${decoded.problem}`, fix: decoded.fix })
        rows.push(...yield* Effect.try({ try: () => parseSampleLines(decoded.text, file, fields), catch: (e) => stageError(ctx.name, e) }))
        if (rows.length === 0) return yield* new StageError({ stage: ctx.name, message: `${file} holds no samples (only blank lines)`, fix: "write one JSON object per line, or point path at another file" })
      } else {
        for (const [index, record] of (yield* upstream!.readAll()).entries()) {
          const sample = sampleOf(record, fields)
          if (typeof sample === "string") return yield* new StageError({ stage: ctx.name, message: `record ${index} of ${upstream!.stage}: ${sample}`, fix: "set instruction_field / input_field / output_field" })
          rows.push({ record, sample })
        }
      }
      const batch = ctx.options.batch_size
      const totals = new Map<string, number>()
      let sum = 0
      let done = ctx.output.resumedCount
      for (const kept of yield* ctx.output.resumed()) {
        const value = kept["score"]
        if (typeof value === "number") sum += value
        const parts = kept["score_parts"]
        if (typeof parts === "object" && parts !== null && !Array.isArray(parts)) {
          for (const [k, v] of Object.entries(parts)) if (typeof v === "number") totals.set(k, (totals.get(k) ?? 0) + v)
        }
      }
      while (done < rows.length) {
        const slice = rows.slice(done, done + batch)
        const scores = yield* ctx.uses.scorer.score(slice.map((row) => row.sample)).pipe(
          Effect.mapError((e) => new StageError({ stage: ctx.name, message: `${e.scorer}: ${e.message}`, fix: e.fix ?? "see the scorer's README" }))
        )
        yield* ctx.output.append(slice.map((row, i) => {
          const s = scores[i]!
          sum += s.value
          for (const [k, v] of Object.entries(s.parts ?? {})) totals.set(k, (totals.get(k) ?? 0) + v)
          return { ...row.record, score: s.value, score_parts: { ...s.parts } }
        }))
        done += slice.length
        yield* ctx.events.progress(done, rows.length)
      }
      const metrics: Record<string, number> = { scored: rows.length, mean_score: rows.length === 0 ? 0 : sum / rows.length }
      for (const [k, v] of totals) metrics[`mean_${k}`] = v / Math.max(rows.length, 1)
      for (const [name, value] of Object.entries(metrics)) yield* ctx.events.metric(name, value)
      return { metrics }
    })
})
