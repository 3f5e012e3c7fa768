/**
 * Loading a Hugging Face model folder into a ready `LanguageModel`: config,
 * tokenizer, weights (read once, file handles closed), runtime on the given
 * backend, and an optional PEFT adapter uploaded to the backend.
 */
import { totalmem } from "node:os"
import * as nodePath from "node:path"
import type { BackendService, DeviceTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import { endOfSequenceIds, loadModelFolder, type LlamaConfig, type ModelFolder } from "@refine-af/models"
import type { ActiveAdapter } from "../generation/generate.ts"
import { makeLlamaRuntime, type LlamaRuntime, type QuantisedBinding, type WeightMode } from "../model/runtime.ts"
import { ensureFolderFits, openWeights } from "@refine-af/models"
import { readAdapter } from "../peft/adapter-io.ts"
import { adapterFeeds, programLora } from "../peft/program-adapter.ts"
import { loadTokenizer, type Tokenizer } from "@refine-af/models"
import { makeLlamaLanguageModel } from "./language-model.ts"
import { makeLlamaPolicyModel } from "../policy/policy-model.ts"
import { adapterIdentity, modelIdentity, pulledFrom } from "@refine-af/models"
import { loadWeightsAtPrecision, type PrecisionOptions, type WeightsAtPrecision } from "../quant/load-at-precision.ts"
import { heldFloat32, heldQuantised, readFloat32WhenUsed, readWhenUsed } from "../quant/quant-cache.ts"
import { DEFAULT_BLOCK_SIZE } from "../quant/precision.ts"

/**
 * Rows decoded together when a recipe does not say (`max_batch`): 16 where 16 rows of float32 KV
 * cache at the full context take at most an eighth of `memoryBytes`, else 8. A decode step reads
 * every weight once whatever its rows, so more rows are nearly free tokens until compute binds:
 * batch 16 against 8 gave 1.94× the tokens/s on a 1.1B model (bound weights, AVX-512: its
 * weight-left kernel pads 2-15 rows to 16 columns anyway), 1.62× on 120M and 1.22× on 30M
 * (session 25, 2-core Xeon). The memory bound keeps 7B-class models, whose cache is ~0.5-1 MiB a
 * token, at 8. Prefill and scoring programs stay at 8 rows when the default applies (`prefillRows`).
 */
export const defaultMaxBatch = (config: Pick<LlamaConfig, "numLayers" | "numKeyValueHeads" | "headDim">, contextLength: number, memoryBytes: number = totalmem()): number => {
  const kvBytesPerToken = config.numLayers * 2 * config.numKeyValueHeads * config.headDim * 4
  return 16 * contextLength * kvBytesPerToken <= memoryBytes / 8 ? 16 : 8
}

/** Options of {@link loadLlama}. */
export interface LoadLlamaOptions {
  /** Context length (default: the model's max_position_embeddings, capped at 4096 to bound cache memory). */
  readonly contextLength?: number
  /** Rows decoded together (default {@link defaultMaxBatch}: 16, or 8 where that much KV cache would be large). */
  readonly maxBatch?: number
  /** A PEFT LoRA adapter folder to enable. */
  readonly adapterPath?: string
  /** Refuse to load when the estimated need exceeds this many bytes (default: the memory available now, cgroup limit included). */
  readonly memoryBudget?: number
  /** Frozen weights: one copy bound to every program (`shared`, default) or baked into each. */
  readonly weightMode?: WeightMode
  /** `weight_mode: decode` bakes into decode steps of at most this many rows (Infinity: all; see `RuntimeOptions.bakedDecodeRows`). */
  readonly bakedDecodeRows?: number
  /** Frozen weights below float32: baked into decode steps and shared elsewhere (`auto`, default), shared by all, or baked into each. */
  readonly quantisedBinding?: QuantisedBinding
  /** Told once when `auto` shares the stored quantised copy with a decode step for lack of memory. */
  readonly onQuantisedFallback?: (message: string) => Effect.Effect<void>
  /** Storage precision of the frozen weights (default float32) and the quantised-weight cache. */
  readonly precision?: PrecisionOptions
  /**
   * Read the weights a cache hit (or write) gives from the cache file, by memory mapping, on a backend that maps
   * files (default true): the process then holds no copy of them. false: they are read into memory once and every
   * program binds (or bakes) that copy, as without a cache. At float32 (with a cache root) the cache then holds a
   * float32 copy of the checkpoint for the backend to map; false writes none.
   */
  readonly mapCachedWeights?: boolean
  /** See `RuntimeOptions.groupServedDecodes` (default false). */
  readonly groupServedDecodes?: boolean
  /** See `RuntimeOptions.decodeHead` (default `prepacked`). */
  readonly decodeHead?: "prepacked" | "mapped"
  /**
   * A folder remembering the checkpoint's file digests across processes (`IdentityOptions.digestMemo` of
   * `@refine-af/models`): an unchanged checkpoint is not hashed again for its id (LLaMA-2-7B: ~11 s of a
   * load from the quantised-weight cache). `refine-af run` gives its cache's `content-ids` folder.
   */
  readonly digestMemo?: string
}

/**
 * Loads `path` onto `backend`. Returns the service (with the adapter enabled
 * if one was given), the same model with the adapter disabled (`base`, e.g.
 * PPO's reference model), the `PolicyModel` (trainer sessions over the base
 * weights), and the parts for training code.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend } from "@refine-af/tensor"
 * import { loadLlama } from "@refine-af/model-llama"
 * const lm = Effect.flatMap(Backend.asEffect(), (backend) => loadLlama("./tiny-llama", backend))
 * ```
 */
export const loadLlama = Effect.fnUntraced(function* (path: string, backend: BackendService, options: LoadLlamaOptions = {}) {
  const model = yield* loadModelFolder(path)
  const precision = options.precision ?? { precision: "float32" }
  // Refused before any weight is read when it cannot fit (needed vs available, which precision would).
  yield* ensureFolderFits(path, "model-llama", options.memoryBudget, precision.precision, precision.blockSize ?? DEFAULT_BLOCK_SIZE)
  const tokenizer: Tokenizer = yield* loadTokenizer(path)
  const folderId = yield* modelIdentity(model, options.digestMemo === undefined ? {} : { digestMemo: options.digestMemo })
  // A backend that maps stored copies never reads the cached weights: they stay in the cache file only.
  const maps = backend.mapsStoredWeights === true && options.mapCachedWeights !== false
  // At float32 the cache holds a float32 copy only for such a backend (nothing else would read it).
  const loaded: WeightsAtPrecision = yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeightsAtPrecision(source, model.config, path, folderId, { ...precision, float32Cache: maps })))
  const quantised = maps ? readWhenUsed(loaded.quantised) : options.mapCachedWeights === false ? heldQuantised(loaded.quantised) : loaded.quantised
  const weights = maps ? readFloat32WhenUsed(loaded.weights) : options.mapCachedWeights === false ? heldFloat32(loaded.weights) : loaded.weights
  const contextLength = Math.min(options.contextLength ?? Math.min(model.config.maxPositionEmbeddings, 4096), model.config.maxPositionEmbeddings)
  const eos = endOfSequenceIds(model)
  // Padding only fills masked positions, but its id must still index the embedding table.
  const padTokenId = [model.config.padTokenId, model.generation.padTokenId, tokenizer.padTokenId, eos[0]].find((id): id is number => id !== null && id !== undefined && id < model.config.vocabSize) ?? 0
  const runtime: LlamaRuntime = makeLlamaRuntime(backend, model.config, weights, { contextLength, padTokenId, quantised, ...(options.weightMode ? { weightMode: options.weightMode } : {}), ...(options.bakedDecodeRows === undefined ? {} : { bakedDecodeRows: options.bakedDecodeRows }), ...(options.quantisedBinding ? { quantisedBinding: options.quantisedBinding } : {}), ...(options.groupServedDecodes === true ? { groupServedDecodes: true } : {}), ...(options.decodeHead === undefined ? {} : { decodeHead: options.decodeHead }), ...(options.onQuantisedFallback ? { onQuantisedFallback: options.onQuantisedFallback } : {}) })
  const eosIds = new Set([...eos, ...(tokenizer.eosTokenId === null ? [] : [tokenizer.eosTokenId])])
  // Outputs differ by precision, so ids (lineage, score caches) do too.
  const id = precision.precision === "float32" ? folderId
    : precision.precision === "float16" ? `${folderId}@float16`
    : `${folderId}@${precision.precision}-b${precision.blockSize ?? DEFAULT_BLOCK_SIZE}`
  const maxBatch = options.maxBatch ?? defaultMaxBatch(model.config, contextLength)
  // Rows prefilled or scored in one program: the default max_batch widens decode steps only (their
  // activations do not grow with the prompt); prefill and scoring keep the 8 rows they had before.
  const prefillRows = options.maxBatch ?? 8
  let adapter: ActiveAdapter | undefined
  let adapterId = ""
  if (options.adapterPath) {
    const lora = yield* readAdapter(options.adapterPath, model.config)
    const uploaded: Record<string, DeviceTensor> = {}
    for (const [name, tensor] of Object.entries(adapterFeeds(lora))) uploaded[name] = yield* backend.upload(tensor)
    adapter = { lora: programLora(lora), feeds: uploaded }
    adapterId = yield* adapterIdentity(options.adapterPath)
  }
  const base = makeLlamaLanguageModel(runtime, tokenizer, { id, contextLength, eosIds, maxBatch, prefillRows })
  const service = adapter
    ? makeLlamaLanguageModel(runtime, tokenizer, { id: `${id}${adapterId}`, contextLength, eosIds, maxBatch, prefillRows, adapter })
    : base
  // The trainable view: sessions over the same frozen weights (the resource's own adapter is not applied to them).
  // PEFT's base_model_name_or_path for exported adapters: the Hub repo a pulled folder came from, else the folder.
  const pulled = pulledFrom(path)
  const pythonBase = pulled === undefined ? { nameOrPath: nodePath.resolve(path) } : { nameOrPath: pulled.repo, ...(pulled.revision === "main" ? {} : { revision: pulled.revision }) }
  const policy = yield* makeLlamaPolicyModel({ runtime, tokenizer, id, contextLength, eosIds, maxBatch, prefillRows, base: pythonBase })
  return { service, base, policy, runtime, tokenizer, model, quantCache: loaded.cache, ...(loaded.cacheDamaged === undefined ? {} : { quantCacheDamaged: loaded.cacheDamaged }) }
})
