/**
 * The architectures `reward-model/hf` runs, behind one shape: a program per
 * (batch, length) bucket, the host feeds of right-padded rows, the output
 * name and the label count. GPT-NeoX (OpenAssistant RMs, GPT-NeoX
 * classifiers) and the Llama family (Llama-based reward models /
 * `LlamaForSequenceClassification`) are chosen from `config.json`'s
 * `model_type`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { loadScoringModel } from "@refine-af/reward-model"
 * const model = Effect.scoped(loadScoringModel("/models/oasst-rm", "safetensors"))
 * ```
 */
import { Effect, Schema, type Scope } from "effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { buildHeadsGraph, ensureFolderFits, gptNeoXScoreProgram, llamaClassifierFeeds, loadGptNeoX, loadLlamaClassifier, SUPPORTED_ARCHITECTURES, type Weights } from "@refine-af/models"
import { hostTensor, type HostTensor, type Program } from "@refine-af/tensor"

export interface ScoringModel {
  readonly kind: "gpt-neox" | "llama"
  readonly config: unknown
  readonly weights: Weights
  readonly weightsFile: string
  readonly labels: number
  readonly padTokenId: number
  readonly maxPositions: number
  readonly output: string
  readonly program: (shape: { readonly batch: number; readonly length: number }) => Program
  readonly feeds: (rows: ReadonlyArray<ReadonlyArray<number>>, shape: { readonly batch: number; readonly length: number }) => Record<string, HostTensor>
}

export class ScoringModelError extends Schema.TaggedError<ScoringModelError>()("ScoringModelError", { message: Schema.String }) {}

const llamaTypes = new Set<string>(SUPPORTED_ARCHITECTURES)
const neoxTypes = new Set(["gpt_neox", "gpt_neox_reward_model"])

/** Loads a reward-model folder as a `ScoringModel`. */
export const loadScoringModel = (folder: string, prefer: "safetensors" | "bin"): Effect.Effect<ScoringModel, ScoringModelError, Scope.Scope> =>
  Effect.gen(function*() {
    const configPath = nodePath.join(folder, "config.json")
    const modelType = yield* Effect.try({
      try: () => (JSON.parse(fs.readFileSync(configPath, "utf8")) as { model_type?: unknown }).model_type,
      catch: (cause) => new ScoringModelError({ message: `cannot read ${configPath} (${cause instanceof Error ? cause.message : String(cause)})` })
    })
    // Refused before any weight is read when it cannot fit (needed vs available, which precision would).
    yield* ensureFolderFits(folder, "reward-model/hf").pipe(Effect.mapError((e) => new ScoringModelError({ message: e.message })))
    if (typeof modelType === "string" && llamaTypes.has(modelType)) {
      const model = yield* loadLlamaClassifier(folder, { prefer }).pipe(Effect.mapError((e) => new ScoringModelError({ message: e.message })))
      return {
        kind: "llama",
        config: model.config,
        weights: model.weights,
        weightsFile: model.weightsFile,
        labels: model.labels,
        padTokenId: model.padTokenId,
        maxPositions: model.config.maxPositionEmbeddings,
        output: "scores",
        program: (shape) => buildHeadsGraph(model.config, shape, { score: { labels: model.labels, padTokenId: model.padTokenId } }).build(),
        feeds: (rows, shape) => llamaClassifierFeeds(model, rows, shape)
      } satisfies ScoringModel
    }
    if (typeof modelType === "string" && !neoxTypes.has(modelType)) {
      return yield* new ScoringModelError({ message: `${configPath} has model_type "${modelType}"; reward-model/hf runs gpt_neox (OpenAssistant RMs) and llama / mistral / qwen2 sequence classifiers` })
    }
    const model = yield* loadGptNeoX(folder, { prefer }).pipe(Effect.mapError((e) => new ScoringModelError({ message: e.message })))
    const pad = model.config.padTokenId ?? model.config.eosTokenId ?? 0
    return {
      kind: "gpt-neox",
      config: model.config,
      weights: model.weights,
      weightsFile: model.weightsFile,
      labels: model.head.kind === "reward" ? 1 : model.head.labels,
      padTokenId: pad,
      maxPositions: model.config.maxPositions,
      output: "logits",
      program: (shape) => gptNeoXScoreProgram(model.config, model.head, { batch: shape.batch, seq: shape.length }, "float32"),
      feeds: (rows, shape) => {
        const { batch: B, length: L } = shape
        const ids = new Array<number>(B * L).fill(pad)
        const positions = new Array<number>(B * L)
        const pool = new Array<number>(B * L).fill(0)
        for (let r = 0; r < B; r++) {
          const row = rows[r] ?? [pad]
          row.forEach((id, i) => (ids[r * L + i] = id))
          for (let i = 0; i < L; i++) positions[r * L + i] = i
          pool[r * L + row.length - 1] = 1
        }
        return { input_ids: hostTensor("int64", [B, L], ids), positions: hostTensor("int64", [B, L], positions), pool: hostTensor("float32", [B, L], pool) }
      }
    } satisfies ScoringModel
  })
