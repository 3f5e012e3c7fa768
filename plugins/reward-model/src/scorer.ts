/**
 * The reward-model scorer: samples rendered with the template (or, for
 * `template: chat`, as a user turn and the assistant's answer through the
 * model's own chat template), tokenized,
 * truncated to the context (counted and warned about), grouped into
 * length-bucketed batches, run through the model's scoring program (GPT-NeoX
 * or Llama classifier, see `architectures.ts`) on the `Backend` (weights uploaded once, shared by every bucket's executable), and
 * cached by content. `value` is `logits[0]`; a classifier with several labels
 * also reports `label_<i>` parts.
 *
 * @example
 * ```ts
 * import { makeRewardModelScorer } from "@refine-af/reward-model"
 * // const scorer = yield* makeRewardModelScorer(model, tokenizer, backend, { template, batchSize: 8 })
 * ```
 */
import { Effect } from "effect"
import { openScoreCache, type Sample, type Score, ScorerError, type ScorerService, scoreThroughCache } from "@refine-af/core"
import { planBatches, type Tokenizer } from "@refine-af/models"
import type { BackendService, DeviceTensor, Executable } from "@refine-af/tensor"
import type { ScoringModel } from "./architectures.ts"
import { CHAT_TEMPLATE, promptOf, renderTemplate } from "./template.ts"

export interface RewardModelOptions {
  readonly name: string
  /** Content id of the model (part of the score cache key). */
  readonly modelId: string
  readonly template: string
  readonly batchSize: number
  /** Tokens kept per sample; longer samples are truncated (default: the model's context). */
  readonly maxLength: number
  readonly cacheDir?: string | undefined
  readonly onTruncated?: (count: number, longest: number) => Effect.Effect<void>
}

/** Builds the scorer; uploads the weights to the backend once. */
export const makeRewardModelScorer = (
  model: ScoringModel,
  tokenizer: Tokenizer,
  backend: BackendService,
  options: RewardModelOptions
): Effect.Effect<ScorerService, ScorerError> =>
  Effect.gen(function*() {
    const failed = (message: string) => new ScorerError({ scorer: options.name, message })
    const weights: Record<string, DeviceTensor> = {}
    for (const [name, w] of model.weights) {
      weights[name] = yield* backend.upload({ dtype: "float32", shape: w.shape, data: w.data }).pipe(Effect.mapError((e) => failed(`uploading ${name}: ${e.message}`)))
    }
    const executables = new Map<number, Executable>()
    const executable = (length: number) =>
      Effect.gen(function*() {
        const known = executables.get(length)
        if (known !== undefined) return known
        const compiled = yield* backend.compile(model.program({ batch: options.batchSize, length })).pipe(Effect.mapError((e) => failed(`compiling the ${length}-token program: ${e.message}`)))
        executables.set(length, compiled)
        return compiled
      })
    const pad = model.padTokenId
    const labels = model.labels
    // `chat`: the conversation through the model's chat template, a leading BOS text dropped
    // because encoding adds the tokenizer's own (as reward models' cards do: no double BOS).
    const bosText = tokenizer.bosTokenId === null ? "" : tokenizer.decode([tokenizer.bosTokenId], { skipSpecialTokens: false })
    const encodeSample = (sample: Sample): Effect.Effect<Array<number>, ScorerError> =>
      options.template !== CHAT_TEMPLATE
        ? Effect.sync(() => tokenizer.encode(renderTemplate(options.template, sample)))
        : tokenizer.applyChatTemplate([{ role: "user", content: promptOf(sample) }, { role: "assistant", content: sample.output }], { addGenerationPrompt: false }).pipe(
          Effect.map((text) => tokenizer.encode(bosText !== "" && text.startsWith(bosText) ? text.slice(bosText.length) : text)),
          Effect.mapError((e) => failed(e.message))
        )
    const cache = openScoreCache({ scorerId: `reward-model/hf:1:${options.modelId}:${options.template}:${options.maxLength}`, cacheDir: options.cacheDir })

    const scoreMissing = (samples: ReadonlyArray<Sample>) =>
      Effect.gen(function*() {
        let truncated = 0
        let longest = 0
        const tokens: Array<Array<number>> = []
        for (const sample of samples) {
          let ids = yield* encodeSample(sample)
          if (ids.length === 0) ids = [pad]
          if (ids.length > options.maxLength) {
            truncated++
            longest = Math.max(longest, ids.length)
            ids = ids.slice(0, options.maxLength)
          }
          tokens.push(ids)
        }
        if (truncated > 0 && options.onTruncated !== undefined) yield* options.onTruncated(truncated, longest)
        const scores = new Array<Score>(samples.length)
        for (const batch of planBatches(tokens.map((t) => t.length), { batchSize: options.batchSize, maxLength: options.maxLength })) {
          const shape = { batch: options.batchSize, length: batch.length }
          const out = yield* backend.run(yield* executable(batch.length), {
            ...weights,
            ...model.feeds(batch.rows.map((row) => tokens[row]!), shape)
          }).pipe(Effect.mapError((e) => failed(`running the model: ${e.message}`)))
          const logits = yield* backend.download(out[model.output]!).pipe(Effect.mapError((e) => failed(e.message)))
          for (const t of Object.values(out)) yield* Effect.ignore(backend.release(t))
          batch.rows.forEach((sampleIndex, r) => {
            const row = Array.from(logits.data as Float32Array).slice(r * labels, (r + 1) * labels)
            scores[sampleIndex] = labels === 1 ? { value: row[0]! } : { value: row[0]!, parts: Object.fromEntries(row.map((v, i) => [`label_${i}`, v])) }
          })
        }
        return scores
      })

    return { name: options.name, score: (samples) => scoreThroughCache(cache, samples, scoreMissing) }
  })
