/**
 * The `LlamaCheckpoint` service: where a `llama/hf` resource's base weights
 * came from (the Hugging Face folder, its content id, config) and the float32
 * host weights it loaded, shared, never copied. `llama/merge` uses it to write
 * base + adapter as a plain folder without reading the base a second time.
 * The resource's own `lora` option is not part of it (as for `PolicyModel`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LlamaCheckpoint } from "@refine-af/model-llama"
 * const folderOfBase = Effect.map(LlamaCheckpoint.asEffect(), (base) => base.folder)
 * ```
 */
import { loadModelFolder, loadWeights, modelIdentity, openWeights, type LlamaConfig } from "@refine-af/models"
import type { HostTensor } from "@refine-af/tensor"
import { Context, Effect } from "effect"

export interface LlamaCheckpointService {
  /** The Hugging Face folder the weights were read from (config, tokenizer and generation files live there). */
  readonly folder: string
  /** Content id of the base model (as `LanguageModelInfo.id`). */
  readonly id: string
  readonly config: LlamaConfig
  /** The float32 base weights by Hugging Face name (the arrays the runtime uses; do not modify). */
  readonly weights: Readonly<Record<string, HostTensor>>
  /** True when the resource keeps some frozen weights below float32 (`precision`): they are not in `weights`; read the folder for the float32 values. */
  readonly quantised?: boolean
}

export class LlamaCheckpoint extends Context.Service<LlamaCheckpoint, LlamaCheckpointService>()("@refine-af/model-llama/LlamaCheckpoint") {}

/**
 * The checkpoint of a model folder read on its own (no backend, no runtime):
 * what `llama/merge` uses when its base is given as `path` / `builtin` rather
 * than a `llama/hf` resource.
 *
 * @example
 * ```ts
 * import { readLlamaCheckpoint } from "@refine-af/model-llama"
 * const base = readLlamaCheckpoint("models/tiny-llama")
 * ```
 */
export const readLlamaCheckpoint = (folder: string) =>
  Effect.gen(function* () {
    const model = yield* loadModelFolder(folder)
    const weights = yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, folder)))
    const id = yield* modelIdentity(model)
    return { folder, id, config: model.config, weights } satisfies LlamaCheckpointService
  })
