/**
 * Options of `self-instruct/classify`.
 *
 * @example
 * ```yaml
 * classified:
 *   _component_: self-instruct/classify
 *   instructions: instructions
 *   model: policy
 *   batchSize: 8
 * ```
 */
import { Schema } from "effect"
import { positiveInt, samplingOptions, withDefault } from "../options.ts"

/** Decoded options of the classify stage. */
export const ClassifyOptions = Schema.Struct({
  /** Skip the model: mark instructions with the keyword heuristic, or leave them `null` ("unknown"). */
  skip: Schema.Boolean.annotate({ description: "Skip the model: mark instructions with the keyword heuristic, or leave them `null` (\"unknown\")." }).pipe(withDefault(false)),
  /** With `skip: true`, how to decide. */
  skipMode: Schema.Literals(["heuristic", "unknown"]).annotate({ description: "With `skip: true`, how to decide." }).pipe(withDefault("heuristic")),
  /** Keep an upstream boolean `is_classification` (e.g. from seed tasks) instead of asking again. */
  keepUpstream: Schema.Boolean.annotate({ description: "Keep an upstream boolean `is_classification` (e.g. from seed tasks) instead of asking again." }).pipe(withDefault(true)),
  /** Instructions per language-model call. */
  batchSize: positiveInt.annotate({ description: "Instructions per language-model call." }).pipe(withDefault(8)),
  /** Greedy, a few tokens, one line. */
  sampling: samplingOptions({ maxNewTokens: 3, temperature: 0, stop: ["\n"] }).annotate({ description: "Greedy, a few tokens, one line." })
})
/** The decoded classify options. */
export type ClassifyOptions = typeof ClassifyOptions.Type
