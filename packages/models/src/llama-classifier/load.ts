/**
 * Llama-family sequence classifiers (`LlamaForSequenceClassification`, e.g.
 * Llama-based reward models): the shared Llama trunk with the `score` head,
 * loaded from `model.safetensors` or — safely — `pytorch_model.bin`, and the
 * host feeds of right-padded rows (padding positions masked, the score read at
 * each row's last non-pad token, as transformers does).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { loadLlamaClassifier } from "@refine-af/models"
 * const model = Effect.scoped(loadLlamaClassifier("/models/llama-rm"))
 * ```
 */
import { Effect, type Scope } from "effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import type { HostTensor } from "@refine-af/tensor"
import { CheckpointError, openCheckpoint, type Weights } from "../checkpoint/open.ts"
import type { InvalidConfigError, UnsupportedArchitectureError } from "../config/errors.ts"
import { type LlamaConfig, parseLlamaConfig } from "../config/llama-config.ts"
import { configRopeFrequencies, makeStepFeeds } from "../llama/step-feeds.ts"
import { expectedWeights } from "../llama/weights.ts"

export interface LlamaClassifier {
  readonly folder: string
  readonly config: LlamaConfig
  readonly labels: number
  readonly padTokenId: number
  readonly weights: Weights
  readonly weightsFile: string
}

/** Loads a Llama-family classifier folder (config.json with `num_labels`, weights with `score.weight`). */
export const loadLlamaClassifier = (
  folder: string,
  options: { readonly prefer?: "safetensors" | "bin" } = {}
): Effect.Effect<LlamaClassifier, CheckpointError | InvalidConfigError | UnsupportedArchitectureError, Scope.Scope> =>
  Effect.gen(function*() {
    const path = nodePath.join(folder, "config.json")
    const raw = yield* Effect.try({
      try: () => JSON.parse(fs.readFileSync(path, "utf8")) as Record<string, unknown>,
      catch: (cause) => new CheckpointError({ path, message: `cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)}); a classifier folder needs config.json, weights and tokenizer.json` })
    })
    const config = yield* parseLlamaConfig(path, raw)
    const labels = typeof raw["num_labels"] === "number" ? raw["num_labels"] : raw["id2label"] !== undefined ? Object.keys(raw["id2label"] as object).length : 1
    const source = yield* openCheckpoint(folder, options.prefer)
    const weights = yield* source.readAll(expectedWeights(config, { score: labels }))
    return { folder, config, labels, padTokenId: config.padTokenId ?? config.eosTokenIds[0] ?? 0, weights, weightsFile: source.file }
  })

/** Feeds of the classifier program for right-padded rows (`batch` rows of `length`; missing rows are padding). */
export const llamaClassifierFeeds = (model: Pick<LlamaClassifier, "config" | "padTokenId">, rows: ReadonlyArray<ReadonlyArray<number>>, shape: { readonly batch: number; readonly length: number }): Record<string, HostTensor> => {
  const c = model.config
  const frequencies = configRopeFrequencies(c, shape.length)
  const steps = rows.map((tokens) => ({
    tokens: [...tokens, ...new Array<number>(shape.length - tokens.length).fill(model.padTokenId)],
    positions: Array.from({ length: shape.length }, (_, i) => (i < tokens.length ? i : -1)),
    cachePositions: []
  }))
  return makeStepFeeds(c, frequencies, { ...shape, cache: 0 }, steps, model.padTokenId)
}
