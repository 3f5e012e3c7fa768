/**
 * Loads a GPT-NeoX scorer folder: `config.json`, the head the checkpoint
 * carries (OASST `out_proj` or HF `score`), and every weight as float32, from
 * `model.safetensors` or — when only that exists — `pytorch_model.bin`
 * through the safe reader. Names and shapes are checked before any large read.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { loadGptNeoX } from "@refine-af/models"
 * const model = Effect.scoped(loadGptNeoX("/models/oasst-rm-2.1-pythia-1.4b-epoch-2.5"))
 * ```
 */
import { Effect, type Scope } from "effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { type GptNeoXConfig, GptNeoXConfigError, gptNeoXTrunkWeights, parseGptNeoXConfig } from "./config.ts"
import { gptNeoXHeadWeights, type GptNeoXHead } from "./program.ts"
import { openCheckpoint, type CheckpointError, type WeightSource } from "../checkpoint/open.ts"

export interface GptNeoXModel {
  readonly folder: string
  readonly config: GptNeoXConfig
  readonly head: GptNeoXHead
  /** float32 weights by Hugging Face name. */
  readonly weights: ReadonlyMap<string, { readonly shape: ReadonlyArray<number>; readonly data: Float32Array }>
  /** Which file the weights came from. */
  readonly weightsFile: string
}

const headOf = (source: WeightSource, raw: Record<string, unknown>): GptNeoXHead | undefined => {
  if (source.names.includes("out_proj.weight")) return { kind: "reward" }
  if (source.names.includes("score.weight")) {
    const labels = typeof raw["num_labels"] === "number" ? raw["num_labels"] : raw["id2label"] !== undefined ? Object.keys(raw["id2label"] as object).length : 2
    return { kind: "classifier", labels }
  }
  return undefined
}

/** Loads config, head and weights of a GPT-NeoX scorer folder. */
export const loadGptNeoX = (folder: string, options: { readonly prefer?: "safetensors" | "bin" } = {}): Effect.Effect<GptNeoXModel, GptNeoXConfigError | CheckpointError, Scope.Scope> =>
  Effect.gen(function*() {
    const raw = yield* Effect.try({
      try: () => JSON.parse(fs.readFileSync(nodePath.join(folder, "config.json"), "utf8")) as Record<string, unknown>,
      catch: (cause) => new GptNeoXConfigError({ folder, message: `cannot read ${nodePath.join(folder, "config.json")} (${cause instanceof Error ? cause.message : String(cause)}); a scorer folder needs config.json, weights (model.safetensors or pytorch_model.bin) and tokenizer.json` })
    })
    const config = yield* Effect.try({ try: () => parseGptNeoXConfig(raw, folder), catch: (e) => e as GptNeoXConfigError })
    const source = yield* openCheckpoint(folder, options.prefer)
    const head = headOf(source, raw)
    if (head === undefined) {
      return yield* new GptNeoXConfigError({ folder, message: `${source.file} has no scoring head (neither out_proj.weight of an OpenAssistant reward model nor score.weight of a sequence classifier); use a reward-model / classifier checkpoint, not a plain language model` })
    }
    const expected = new Map([...gptNeoXTrunkWeights(config), ...gptNeoXHeadWeights(config, head)])
    const weights = yield* source.readAll(expected)
    return { folder, config, head, weights, weightsFile: source.file }
  })
