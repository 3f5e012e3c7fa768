/**
 * Loads a T5 folder (UniEval's evaluators): `config.json` and every weight the
 * first-decoder-step program needs, from `model.safetensors` or — safely —
 * `pytorch_model.bin`, names and shapes checked before any large read.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { loadT5 } from "@refine-af/models"
 * const model = Effect.scoped(loadT5("/models/unieval-dialog"))
 * ```
 */
import { Effect, type Scope } from "effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { openCheckpoint, type CheckpointError, type Weights } from "../checkpoint/open.ts"
import { parseT5Config, type T5Config, T5ConfigError, t5Weights } from "./config.ts"

export interface T5Model {
  readonly folder: string
  readonly config: T5Config
  readonly weights: Weights
  readonly weightsFile: string
}

export const loadT5 = (folder: string, options: { readonly prefer?: "safetensors" | "bin" } = {}): Effect.Effect<T5Model, T5ConfigError | CheckpointError, Scope.Scope> =>
  Effect.gen(function*() {
    const raw = yield* Effect.try({
      try: () => JSON.parse(fs.readFileSync(nodePath.join(folder, "config.json"), "utf8")) as Record<string, unknown>,
      catch: (cause) => new T5ConfigError({ folder, message: `cannot read ${nodePath.join(folder, "config.json")} (${cause instanceof Error ? cause.message : String(cause)}); a T5 folder needs config.json, weights (model.safetensors or pytorch_model.bin) and tokenizer.json` })
    })
    const config = yield* Effect.try({ try: () => parseT5Config(raw, folder), catch: (e) => e as T5ConfigError })
    const source = yield* openCheckpoint(folder, options.prefer)
    const weights = yield* source.readAll(t5Weights(config))
    return { folder, config, weights, weightsFile: source.file }
  })
