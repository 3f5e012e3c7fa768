/**
 * The UniEval dialogue scorer: for each sample and dimension, UniEval's
 * question (`packages/text`) is tokenized (ending in `</s>`), truncated to
 * `maxLength` with a warning and a count, batched by length, and run through
 * the T5 first-decoder-step program on the `Backend`; the dimension's score
 * is P(Yes) / (P(Yes) + P(No)) at that step, from the logits of the first
 * tokens of "Yes" and "No" (the softmax normaliser cancels). `value` is the
 * mean of the dimensions. Scores go through the content-addressed cache.
 *
 * @example
 * ```ts
 * import { makeUniEvalScorer } from "@refine-af/unieval"
 * // const scorer = yield* makeUniEvalScorer(model, tokenizer, backend, { name: "unieval", modelId, batchSize: 8, maxLength: 1024 })
 * ```
 */
import { Effect } from "effect"
import { canonicalJson, openScoreCache, type Sample, type Score, ScorerError, type ScorerService, scoreThroughCache } from "@refine-af/core"
import { planBatches, t5FirstStepProgram, type T5Model, type Tokenizer } from "@refine-af/models"
import { type BackendService, type DeviceTensor, type Executable, hostTensor } from "@refine-af/tensor"
import { uniEvalDialogDimensions, uniEvalDialogQuestion, yesProbability, type UniEvalDialogDimension } from "@refine-af/text"

export interface UniEvalOptions {
  readonly name: string
  readonly modelId: string
  readonly batchSize: number
  readonly maxLength: number
  readonly dimensions?: ReadonlyArray<UniEvalDialogDimension>
  readonly cacheDir?: string | undefined
  /** Called once per scoring call with truncated questions: how many, the longest length, and how many samples they came from. */
  readonly onTruncated?: (count: number, longest: number, samples: number) => Effect.Effect<void>
}

export const makeUniEvalScorer = (
  model: T5Model,
  tokenizer: Tokenizer,
  backend: BackendService,
  options: UniEvalOptions
): Effect.Effect<ScorerService, ScorerError> =>
  Effect.gen(function*() {
    const failed = (message: string) => new ScorerError({ scorer: options.name, message })
    const dimensions = options.dimensions ?? uniEvalDialogDimensions
    const yes = tokenizer.encode("Yes", { addSpecialTokens: false })[0]
    const no = tokenizer.encode("No", { addSpecialTokens: false })[0]
    if (yes === undefined || no === undefined || yes === no) return yield* failed(`the tokenizer does not have distinct tokens for "Yes" and "No"; use UniEval's own tokenizer`)
    const weights: Record<string, DeviceTensor> = {}
    for (const [name, w] of model.weights) {
      weights[name] = yield* backend.upload({ dtype: "float32", shape: w.shape, data: w.data }).pipe(Effect.mapError((e) => failed(`uploading ${name}: ${e.message}`)))
    }
    const executables = new Map<number, Executable>()
    const executable = (length: number) =>
      Effect.gen(function*() {
        const known = executables.get(length)
        if (known !== undefined) return known
        const compiled = yield* backend.compile(t5FirstStepProgram(model.config, { batch: options.batchSize, seq: length }, "float32")).pipe(
          Effect.mapError((e) => failed(`compiling the ${length}-token program: ${e.message}`))
        )
        executables.set(length, compiled)
        return compiled
      })
    const { padTokenId: pad, eosTokenId: eos, vocabSize } = model.config
    const cache = openScoreCache({ scorerId: `unieval/dialog:1:${options.modelId}:${canonicalJson({ dimensions, max: options.maxLength })}`, cacheDir: options.cacheDir })

    const scoreMissing = (samples: ReadonlyArray<Sample>) =>
      Effect.gen(function*() {
        let truncated = 0
        let longest = 0
        const cutSamples = new Set<number>()
        const questions = samples.flatMap((sample, s) => dimensions.map((dimension) => {
          let ids = tokenizer.encode(uniEvalDialogQuestion(dimension, sample))
          if (ids.length > options.maxLength) {
            truncated++
            cutSamples.add(s)
            longest = Math.max(longest, ids.length)
            ids = [...ids.slice(0, options.maxLength - 1), eos]
          }
          return ids
        }))
        if (truncated > 0 && options.onTruncated !== undefined) yield* options.onTruncated(truncated, longest, cutSamples.size)
        const probabilities = new Array<number>(questions.length)
        for (const batch of planBatches(questions.map((q) => q.length), { batchSize: options.batchSize, maxLength: options.maxLength })) {
          const B = options.batchSize
          const L = batch.length
          const ids = new Array<number>(B * L).fill(pad)
          const mask = new Array<number>(B * L).fill(0)
          for (let r = 0; r < B; r++) {
            const row = questions[batch.rows[r] ?? -1] ?? [eos]
            row.forEach((id, i) => {
              ids[r * L + i] = id
              mask[r * L + i] = 1
            })
          }
          const out = yield* backend.run(yield* executable(L), {
            ...weights,
            input_ids: hostTensor("int64", [B, L], ids),
            attention_mask: hostTensor("float32", [B, L], mask)
          }).pipe(Effect.mapError((e) => failed(`running the model: ${e.message}`)))
          const logits = (yield* backend.download(out["logits"]!).pipe(Effect.mapError((e) => failed(e.message)))).data as Float32Array
          for (const t of Object.values(out)) yield* Effect.ignore(backend.release(t))
          batch.rows.forEach((q, r) => (probabilities[q] = yesProbability(logits[r * vocabSize + yes]!, logits[r * vocabSize + no]!)))
        }
        return samples.map((_, s): Score => {
          const parts: Record<string, number> = {}
          dimensions.forEach((dimension, d) => (parts[dimension] = probabilities[s * dimensions.length + d]!))
          return { value: Object.values(parts).reduce((a, b) => a + b, 0) / dimensions.length, parts }
        })
      })

    return { name: options.name, score: (samples) => scoreThroughCache(cache, samples, scoreMissing) }
  })
