/**
 * `judge/lm`: UniEval's dialogue questions (naturalness, coherence,
 * understandability) asked to any `LanguageModel` — our own or a remote
 * OpenAI-compatible server — through `score`: each dimension's score is
 * P(Yes) / (P(Yes) + P(No)) from the log-probabilities of the two answer
 * continuations. The cheap path when the dedicated UniEval model is absent.
 * `value` is the mean of the dimensions; the parts are the dimensions.
 *
 * Requests are sorted by length before they reach the model (similar lengths
 * batch together), scores go through the shared content-addressed score cache,
 * and a question longer than the model's context has its response shortened
 * to fit, with a warning and the `judge_truncated` metric.
 *
 * @example
 * ```yaml
 * resources:
 *   compute: { _component_: backend-onnx/onnx }
 *   lm: { _component_: llama/hf, backend: compute, builtin: speaker }
 *   judge: { _component_: judge/lm, model: lm }
 * ```
 */
import { Effect, Schema } from "effect"
import { canonicalJson, defineResource, LanguageModel, type LanguageModelService, openScoreCache, type Sample, type Score, Scorer, ScorerError, type ScorerService, scoreThroughCache, withDefault } from "@refine-af/core"
import { uniEvalDialogDimensions, uniEvalDialogQuestion, yesProbability, type UniEvalDialogDimension } from "@refine-af/text"
import { fitToContext } from "./fit.ts"

/** A non-empty answer continuation (an empty one has log-probability 0 whatever the model thinks). */
const answer = (description: string) =>
  Schema.String.annotate({ description }).check(Schema.makeFilter((s: string) => (s.length > 0 ? undefined : "must not be empty (an empty continuation has log-probability 0)")))


/** What an absent option means: the recipe's Schema and `makeJudgeScorer` (which takes the options as a recipe writes them) share these. */
const defaults = { dimensions: uniEvalDialogDimensions, template: "{question}\nAnswer (Yes or No):", yes: " Yes", no: " No", batch_size: 32 } as const

/** Options of `judge/lm`. */
export const JudgeOptions = Schema.Struct({
  /** Dimensions asked. */
  dimensions: Schema.Array(Schema.Literals(uniEvalDialogDimensions)).annotate({ description: "Dimensions asked." }).pipe(withDefault(defaults.dimensions)),
  /** How the question is put to a general LM; `{question}` is replaced. */
  template: Schema.String.annotate({ description: "How the question is put to a general LM; `{question}` is replaced." })
    .check(Schema.makeFilter((s: string) => (s.includes("{question}") ? undefined : "must contain {question} (else every question is the same prompt)")))
    .pipe(withDefault(defaults.template)),
  /** The two answer continuations; non-empty and different. */
  yes: answer("The \"yes\" answer continuation; non-empty, different from no.").pipe(withDefault(defaults.yes)),
  no: answer("The \"no\" answer continuation; non-empty, different from yes.").pipe(withDefault(defaults.no)),
  /** Requests per `score` call. */
  batch_size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "Requests per `score` call." }).pipe(withDefault(defaults.batch_size))
}).check(Schema.makeFilter<{ readonly yes?: string; readonly no?: string }>((options) =>
  (options.yes ?? " Yes") === (options.no ?? " No")
    ? `yes and no are the same continuation (${JSON.stringify(options.yes ?? " Yes")}): every score would be 0.5; give two different answers`
    : undefined
))
export type JudgeOptions = typeof JudgeOptions.Type

export const defaultJudgeTemplate = defaults.template

/** Hooks the judge reports through (a resource wires them to its event sink). */
export interface JudgeReporting {
  readonly warn: (message: string) => Effect.Effect<void>
  readonly truncated: (count: number) => Effect.Effect<void>
}

const silent: JudgeReporting = { warn: () => Effect.void, truncated: () => Effect.void }

/** The judge over a language model; `cacheDir` enables the on-disk score cache. */
export const makeJudgeScorer = (
  lm: LanguageModelService,
  options: typeof JudgeOptions.Encoded = {},
  extra: { readonly name?: string; readonly cacheDir?: string | undefined; readonly reporting?: JudgeReporting } = {}
): ScorerService => {
  const name = extra.name ?? "judge/lm"
  const dimensions: ReadonlyArray<UniEvalDialogDimension> = options.dimensions ?? defaults.dimensions
  const template = options.template ?? defaults.template
  const answers = [options.yes ?? defaults.yes, options.no ?? defaults.no] as const
  const batch = options.batch_size ?? defaults.batch_size
  const reporting = extra.reporting ?? silent
  const cache = openScoreCache({ scorerId: `judge/lm:1:${lm.info.id}:${canonicalJson({ dimensions, template, answers })}`, cacheDir: extra.cacheDir })
  const failed = (message: string, fix?: string) => new ScorerError({ scorer: name, message, ...(fix === undefined ? {} : { fix }) })

  const scoreMissing = (samples: ReadonlyArray<Sample>) =>
    Effect.gen(function*() {
      const prompts: Array<string> = []
      let truncated = 0
      for (const sample of samples) {
        for (const dimension of dimensions) {
          const fitted = yield* fitToContext(lm, sample, (s) => template.replaceAll("{question}", uniEvalDialogQuestion(dimension, s)), answers).pipe(
            Effect.mapError((e) => failed(e.message, e.fix))
          )
          if (fitted.truncated) truncated++
          prompts.push(fitted.prompt)
        }
      }
      if (truncated > 0) {
        yield* reporting.warn(`${name}: ${truncated} question(s) longer than the model's context (${lm.info.contextLength} tokens); their responses were shortened to fit`)
        yield* reporting.truncated(truncated)
      }
      const requests = prompts.flatMap((prompt) => answers.map((continuation) => ({ prompt, continuation })))
      const order = requests.map((_, i) => i).sort((a, b) => requests[a]!.prompt.length - requests[b]!.prompt.length)
      const totals = new Array<number>(requests.length)
      for (let start = 0; start < order.length; start += batch) {
        const chunk = order.slice(start, start + batch)
        const scored = yield* lm.score(chunk.map((i) => requests[i]!)).pipe(
          Effect.mapError((e) => failed(`the model failed to score: ${e.message}`, e.fix))
        )
        chunk.forEach((i, k) => (totals[i] = scored[k]!.total))
      }
      return samples.map((_, row): Score => {
        const parts: Record<string, number> = {}
        dimensions.forEach((dimension, d) => {
          const at = (row * dimensions.length + d) * 2
          parts[dimension] = yesProbability(totals[at]!, totals[at + 1]!)
        })
        const values = Object.values(parts)
        return { value: values.reduce((a, b) => a + b, 0) / values.length, parts }
      })
    })

  return { name, score: (samples) => scoreThroughCache(cache, samples, scoreMissing) }
}

/** The `judge/lm` resource component. */
export const lm = defineResource({
  description: "UniEval-style Yes/No questions (naturalness, coherence, understandability) asked to any LanguageModel; P(Yes)/(P(Yes)+P(No)) per dimension, value = their mean.",
  provides: Scorer,
  options: JudgeOptions,
  uses: { model: LanguageModel },
  make: (ctx) =>
    Effect.sync(() => {
      let truncatedTotal = 0
      return makeJudgeScorer(ctx.uses.model, ctx.options, {
        name: `judge/lm (${ctx.name})`,
        cacheDir: ctx.cacheDir,
        reporting: {
          warn: ctx.events.warn,
          truncated: (count) => {
            truncatedTotal += count
            return ctx.events.metric("judge_truncated", truncatedTotal)
          }
        }
      })
    })
})
