/**
 * The record `superni/evaluate` writes per instance (one line of its record
 * stream), and its decoder for readers of finished runs (`superni/compare`,
 * `refine-af compare`).
 */
import { Schema } from "effect"
import type { JsonRecord } from "@refine-af/core"

/** How a prompt was shortened to fit the model's window (absent when it fit as is). */
export const PromptFit = Schema.Literals(["dropped-examples", "truncated-input", "over-budget"])
/** See `PromptFit`. */
export type PromptFit = typeof PromptFit.Type

/** One scored prediction. Metric values are unscaled (0..1), as the official code computes them per case. */
export const PredictionRecord = Schema.Struct({
  task: Schema.String,
  category: Schema.String,
  id: Schema.String,
  prediction: Schema.String,
  references: Schema.Array(Schema.String),
  rougeL: Schema.Number,
  exactMatch: Schema.Number,
  finishReason: Schema.optionalKey(Schema.String),
  fit: Schema.optionalKey(PromptFit)
})
/** The decoded prediction record. */
export type PredictionRecord = typeof PredictionRecord.Type

/** Decodes one record of an evaluate stage; `undefined` when the record is not a SuperNI prediction. */
export const decodePredictionRecord = Schema.decodeUnknownOption(PredictionRecord)

/** A prediction record as JSON for the record writer. */
export const predictionToJson = (record: PredictionRecord): JsonRecord => ({ ...record, references: [...record.references] })
