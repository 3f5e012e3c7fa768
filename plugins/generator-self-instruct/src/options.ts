/**
 * Option-schema building blocks shared by the plugin's stages: defaults for
 * absent keys, positive integers, and the sampling parameters block.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { positiveInt, samplingOptions, withDefault } from "./options.ts"
 * const Options = Schema.Struct({
 *   batchSize: positiveInt.pipe(withDefault(4)),
 *   sampling: samplingOptions({ maxNewTokens: 64, temperature: 0 })
 * })
 * ```
 */
import { Schema } from "effect"
import { withDefault } from "@refine-af/core"
import type { SamplingParams } from "@refine-af/core"

/** Makes a struct key optional in the recipe, filled with `value` when absent. */
export { withDefault }

/** An integer ≥ 1. */
export const positiveInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1))

/** An integer ≥ 0. */
export const nonNegativeInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** A number in [0, 1]. */
export const unitInterval = Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

/** Sampling defaults of one stage. */
export interface SamplingDefaults {
  readonly maxNewTokens: number
  readonly temperature: number
  readonly topP?: number
  readonly presencePenalty?: number
  readonly frequencyPenalty?: number
  readonly stop?: ReadonlyArray<string>
}

/** The `sampling` option block: every key optional, filled from `defaults`. */
export const samplingOptions = (defaults: SamplingDefaults) =>
  Schema.Struct({
    maxNewTokens: positiveInt.annotate({ description: "Most tokens generated per request (a reply cut at this length is dropped or trimmed)." }).pipe(withDefault(defaults.maxNewTokens)),
    temperature: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "Sampling temperature; 0 is greedy decoding." }).pipe(withDefault(defaults.temperature)),
    topP: unitInterval.annotate({ description: "Nucleus sampling: sample from the smallest set of tokens whose probability reaches this (1: all tokens)." }).pipe(withDefault(defaults.topP ?? 1)),
    presencePenalty: Schema.Number.annotate({ description: "OpenAI-style presence penalty: subtracted once from the logit of every token already generated." }).pipe(withDefault(defaults.presencePenalty ?? 0)),
    frequencyPenalty: Schema.Number.annotate({ description: "OpenAI-style frequency penalty: subtracted from a token's logit once per time it was generated." }).pipe(withDefault(defaults.frequencyPenalty ?? 0)),
    stop: Schema.Array(Schema.String).annotate({ description: "Stop strings: generation ends before the first one that appears." }).pipe(withDefault(defaults.stop ?? []))
  }).annotate({ description: "Sampling settings of this stage's model requests." }).pipe(withDefault({}))

/** The decoded `sampling` block. */
export type SamplingOptions = {
  readonly maxNewTokens: number
  readonly temperature: number
  readonly topP: number
  readonly presencePenalty: number
  readonly frequencyPenalty: number
  readonly stop: ReadonlyArray<string>
}

/** The request parameters for one prompt: the stage's sampling block plus a per-request seed. */
export const requestParams = (sampling: SamplingOptions, seed: number): SamplingParams => ({
  maxNewTokens: sampling.maxNewTokens,
  temperature: sampling.temperature,
  topP: sampling.topP,
  presencePenalty: sampling.presencePenalty,
  frequencyPenalty: sampling.frequencyPenalty,
  stop: sampling.stop,
  seed
})
