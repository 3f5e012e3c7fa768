/**
 * The `Scorer` service: automated feedback on (instruction, input, output) samples.
 *
 * Providers: reward-model scorers, UniEval-style quality scorers, and the composite
 * reward that combines others with weights. Combination rule: a composite scorer is
 * itself a `Scorer`; the recipe wires which scorers it combines.
 *
 * @example
 * ```ts
 * import type { ScorerService } from "@refine-af/core"
 * const mean = (s: ScorerService) => s.score([{ instruction: "Add 2+2", input: "", output: "4" }])
 * ```
 */
import { Context, Schema, type Effect } from "effect"

export interface Sample {
  readonly instruction: string
  readonly input: string
  readonly output: string
}

export interface Score {
  /** The scalar reward. */
  readonly value: number
  /** Named parts (e.g. `naturalness`, `coherence`) for logging. */
  readonly parts?: Readonly<Record<string, number>>
}

export class ScorerError extends Schema.TaggedError<ScorerError>()("ScorerError", {
  scorer: Schema.String,
  message: Schema.String,
  fix: Schema.optional(Schema.String)
}) {}

export interface ScorerService {
  readonly name: string
  /** Scores in sample order. */
  readonly score: (samples: ReadonlyArray<Sample>) => Effect.Effect<ReadonlyArray<Score>, ScorerError>
}

export class Scorer extends Context.Service<Scorer, ScorerService>()("@refine-af/core/Scorer") {}
