/**
 * `reward/composite`: a `Scorer` that combines other scorers and their parts
 * with weights and a bias (see `combineTerms`), optionally normalising each
 * term. Slots (all optional, connect those the terms name): `reward_model`,
 * `quality`, `heuristics`, `judge`, `extra`. Each connected scorer that a term
 * uses is asked once per batch; its own cache makes a re-run re-score nothing.
 *
 * @example
 * ```yaml
 * resources:
 *   reward:
 *     _component_: reward/composite
 *     reward_model: rm          # a reward-model/hf resource
 *     quality: unieval          # a unieval/dialog (or judge/lm) resource
 *     preset: instructmining    # -0.0274 + 0.0078·Rew + 0.3212·Nat + 0.1520·Coh - 0.4421·Und
 * ```
 */
import { Effect, Schema } from "effect"
import { defineResource, optionalSlot, Scorer, ScorerError, StageError, withDefault, type Sample, type ScorerService } from "@refine-af/core"
import { presets } from "./presets.ts"
import { combineTerms, makeTermState, runningNormEps, type Term } from "./terms.ts"

/** The scorer slots of `reward/composite`. */
export const compositeSlots = ["reward_model", "quality", "heuristics", "judge", "extra"] as const
export type CompositeSlot = (typeof compositeSlots)[number]

const Normalize = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("fixed").annotate({ description: "Normalise with a given mean and standard deviation." }), mean: Schema.Number.annotate({ description: "Subtracted from the score." }), std: Schema.Number.check(Schema.isGreaterThan(0)).annotate({ description: "The score is divided by this." }) }),
  Schema.Struct({ kind: Schema.Literal("running").annotate({ description: "Normalise with the running mean and standard deviation of the scores seen so far." }), eps: Schema.Number.check(Schema.isGreaterThan(0)).annotate({ description: "Smallest standard deviation divided by." }).pipe(withDefault(runningNormEps)) })
])

const TermOptions = Schema.Struct({
  /** The slot whose scorer gives this term. */
  scorer: Schema.Literals(compositeSlots).annotate({ description: "The slot whose scorer gives this term." }),
  /** A named part of that scorer's scores; omit for its `value`. */
  part: Schema.optionalKey(Schema.String).annotate({ description: "A named part of that scorer's scores; omit for its `value`." }),
  weight: Schema.Number.annotate({ description: "Multiplies the (normalised) score." }),
  /** Name in the breakdown (default `scorer` or `scorer.part`). */
  name: Schema.optionalKey(Schema.String).annotate({ description: "Name in the breakdown (default `scorer` or `scorer.part`)." }),
  normalize: Schema.optionalKey(Normalize).annotate({ description: "Normalisation before weighting: fixed { mean, std } or running { eps } (default none)." })
})

/** Options of `reward/composite`. */
export const CompositeOptions = Schema.Struct({
  /** A named weighting (`instructmining`); `terms` / `bias`, when given, replace the preset's. */
  preset: Schema.optionalKey(Schema.Literal("instructmining")).annotate({ description: "A named weighting (`instructmining`); `terms` / `bias`, when given, replace the preset's." }),
  terms: Schema.optionalKey(Schema.Array(TermOptions)).annotate({ description: "Weighted scorer terms summed into the reward." }),
  bias: Schema.optionalKey(Schema.Number).annotate({ description: "Added to the weighted sum (default 0)." })
})
export type CompositeOptions = typeof CompositeOptions.Type

/** The terms and bias a composite's options describe (preset first, explicit options override). */
export const resolveTerms = (options: CompositeOptions): { readonly terms: ReadonlyArray<Term>; readonly bias: number } => {
  const preset = options.preset === undefined ? undefined : presets[options.preset]
  const terms: ReadonlyArray<Term> = options.terms?.map((t) => ({
    name: t.name ?? (t.part === undefined ? t.scorer : `${t.scorer}.${t.part}`),
    slot: t.scorer,
    part: t.part,
    weight: t.weight,
    normalize: t.normalize
  })) ?? preset?.terms ?? []
  return { terms, bias: options.bias ?? preset?.bias ?? 0 }
}

/** Builds a composite scorer over the given slot scorers. */
export const makeCompositeScorer = (
  name: string,
  terms: ReadonlyArray<Term>,
  bias: number,
  scorers: Readonly<Partial<Record<string, ScorerService>>>
): ScorerService => {
  const state = makeTermState(terms)
  const slotsUsed = [...new Set(terms.map((t) => t.slot))]
  return {
    name,
    score: (samples: ReadonlyArray<Sample>) =>
      Effect.gen(function*() {
        const bySlot = new Map<string, ReadonlyArray<{ value: number; parts?: Readonly<Record<string, number>> }>>()
        for (const slot of slotsUsed) {
          const scorer = scorers[slot]
          if (scorer === undefined) return yield* new ScorerError({ scorer: name, message: `no scorer is connected to slot "${slot}"`, fix: `set ${slot}: <a scorer resource> on the composite` })
          const scores = yield* scorer.score(samples)
          if (scores.length !== samples.length) return yield* new ScorerError({ scorer: name, message: `${scorer.name} returned ${scores.length} scores for ${samples.length} samples` })
          bySlot.set(slot, scores)
        }
        const rows: Array<Record<string, number>> = []
        for (let row = 0; row < samples.length; row++) {
          const values: Record<string, number> = {}
          for (const term of terms) {
            const score = bySlot.get(term.slot)![row]!
            const raw = term.part === undefined ? score.value : score.parts?.[term.part]
            if (typeof raw !== "number" || !Number.isFinite(raw)) {
              const known = Object.keys(score.parts ?? {}).join(", ") || "none"
              return yield* new ScorerError({
                scorer: name,
                message: `term "${term.name}": ${scorers[term.slot]!.name} gave no finite ${term.part === undefined ? "value" : `part "${term.part}"`} for sample ${row}`,
                fix: `use one of its parts (${known}) or omit part for its value`
              })
            }
            values[term.name] = raw
          }
          rows.push(values)
        }
        return combineTerms(terms, bias, rows, state)
      })
  }
}

/** The `reward/composite` resource component. */
export const composite = defineResource({
  description: "Weighted sum of scorers and their parts plus a bias, optional per-term normalisation (fixed or running mean/std), `preset: instructmining`; keeps every term in the breakdown.",
  provides: Scorer,
  options: CompositeOptions,
  uses: {
    reward_model: optionalSlot(Scorer),
    quality: optionalSlot(Scorer),
    heuristics: optionalSlot(Scorer),
    judge: optionalSlot(Scorer),
    extra: optionalSlot(Scorer)
  },
  make: (ctx) =>
    Effect.gen(function*() {
      const { terms, bias } = resolveTerms(ctx.options)
      if (terms.length === 0) {
        return yield* new StageError({ stage: ctx.name, message: "reward/composite has no terms", fix: "set preset: instructmining or list terms: [{ scorer, part?, weight }]" })
      }
      const names = new Set<string>()
      for (const term of terms) {
        if (ctx.uses[term.slot as CompositeSlot] === undefined) {
          return yield* new StageError({ stage: ctx.name, message: `term "${term.name}" reads slot "${term.slot}", which is not connected`, fix: `add ${term.slot}: <scorer resource name> to the "${ctx.name}" resource` })
        }
        if (names.has(term.name)) return yield* new StageError({ stage: ctx.name, message: `two terms are named "${term.name}"`, fix: "give each term a distinct name:" })
        names.add(term.name)
      }
      return makeCompositeScorer(`reward/composite (${ctx.name})`, terms, bias, ctx.uses)
    })
})
