/**
 * A merged model folder on request: base weights with a PEFT LoRA adapter
 * merged in (W + scale·B·A, in float32), written as a plain Hugging Face folder
 * (`model.safetensors` in the base's dtype or the one asked for, sharded as
 * transformers shards past 5 GB, the base's config, generation config, tokenizer and
 * licence files, and a model card of its own) that runs anywhere without PEFT.
 * A multimodal base (gemma3) stays one: its decoder's tensors keep their names
 * in the base's checkpoint, and its vision tower and projector are written
 * through (with any LoRA modules the adapter holds for them merged in).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { writeMergedModel } from "@refine-af/model-llama"
 * await Effect.runPromise(writeMergedModel({ base: "models/llama", adapter: "runs/x/stages/sft/adapter", out: "models/llama-sft" }))
 * ```
 */
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises"
import * as nodePath from "node:path"
import {
  bytesPerElement,
  checkpointNames,
  currentTensorName,
  loadModelFolder,
  loadWeights,
  MULTIMODAL_MODEL_TYPES,
  multimodalTensorName,
  openCheckpointFiles,
  openWeights,
  pulledFrom,
  SafetensorsIoError,
  toHalfPrecision,
  writeSafetensors,
  type CheckpointNames,
  type SafetensorsFormatError,
  type TensorSource,
  type TensorToWrite
} from "@refine-af/models"
import type { HostTensor } from "@refine-af/tensor"
import { Effect, type Scope } from "effect"
import { adapterScale, mergeLoraPair, type LoraAdapter } from "./adapter.ts"
import { readAdapter } from "./adapter-io.ts"
import { mergeAdapter } from "./merge.ts"

/** Where the base, the adapter and the merged folder are. */
export interface MergedModelRequest {
  readonly base: string
  readonly adapter: string
  readonly out: string
}

/** The merged weights' dtype: `auto` is the base's (its config's `torch_dtype` / `dtype`: float16, bfloat16 or float32; else float32). */
export type MergedDtype = "auto" | "float32" | "float16" | "bfloat16"

/** transformers' default largest shard (`max_shard_size="5GB"`): 5 × 10⁹ bytes. */
export const DEFAULT_MAX_SHARD_BYTES = 5e9

const SAFETENSORS_DTYPE = { float32: "F32", float16: "F16", bfloat16: "BF16" } as const

/** The dtype `requested` means for a base whose config.json is `config`. */
export const mergedDtypeFor = (requested: MergedDtype, config: Readonly<Record<string, unknown>>): Exclude<MergedDtype, "auto"> => {
  if (requested !== "auto") return requested
  const stored = config["dtype"] ?? config["torch_dtype"]
  return stored === "float16" || stored === "bfloat16" ? stored : "float32"
}

/**
 * Tensor names (in order) split into shards of at most `maxBytes` each, as transformers shards: a
 * tensor larger than the limit gets a shard of its own.
 */
export const shardTensors = (sizes: ReadonlyArray<readonly [string, number]>, maxBytes: number): Array<Array<string>> => {
  const shards: Array<Array<string>> = []
  let current: Array<string> = []
  let bytes = 0
  for (const [name, size] of sizes) {
    if (current.length > 0 && bytes + size > maxBytes) {
      shards.push(current)
      current = []
      bytes = 0
    }
    current.push(name)
    bytes += size
  }
  if (current.length > 0) shards.push(current)
  return shards
}

/** What was written. */
export interface MergedModelResult {
  readonly out: string
  /** The weights' dtype. */
  readonly dtype: Exclude<MergedDtype, "auto">
  /** The weight files (one `model.safetensors`, or shards with `model.safetensors.index.json`). */
  readonly shards: number
  /** Projections that received W + scale·B·A. */
  readonly mergedModules: number
  readonly tensors: number
  /** Elements of every weight tensor written. */
  readonly parameters: number
  /** Bytes of every file in `out`. */
  readonly bytes: number
}

/** Files of the base folder that are not weights (copied as they are; config.json gets torch_dtype float32). */
const isWeightFile = (name: string) => /\.(safetensors|bin|pt|pth|ckpt|gguf)$/.test(name) || /\.index\.json$/.test(name)

/**
 * Base files the merged folder does not copy: the base's model card (it describes the base; the merged
 * folder gets its own) and our own bookkeeping (`models pull`'s record would claim the base's repo,
 * revision and file hashes for this folder).
 */
const isNotCopied = (name: string) => name === "README.md" || name.startsWith(".refine-af")

/** The merged folder's model card: what it is, and (for a base pulled from the Hub) `base_model`, which the Hub links. */
const mergedCard = (baseFolder: string, adapterSource: string | undefined, dtype: string, shards: number): string => {
  const pulled = pulledFrom(baseFolder)
  const front = [
    "---",
    ...(pulled === undefined ? [] : [`base_model: ${JSON.stringify(pulled.repo)}`]),
    "library_name: transformers",
    "tags:",
    "- refine-af",
    "- lora",
    "- merged",
    "---"
  ]
  const base = pulled === undefined ? `the model in \`${baseFolder}\`` : `[${pulled.repo}](https://huggingface.co/${pulled.repo})${pulled.revision === "main" ? "" : ` (revision \`${pulled.revision}\`)`}`
  const adapter = adapterSource === undefined ? "a LoRA adapter" : `the LoRA adapter of ${adapterSource}`
  return [...front, "", `${base} with ${adapter} merged into its weights (W + scale·B·A, computed in float32) by refine-af's \`llama/merge\`: ${dtype} weights in ${shards === 1 ? "\`model.safetensors\`" : `${shards} shards (\`model.safetensors.index.json\`)`}, the base's configuration and tokenizer files. It loads without PEFT. The base model's licence and use policy apply.`, ""].join("\n")
}

/**
 * Merges an already read `adapter` into already loaded float32 `weights` of the
 * folder `baseFolder` and writes the result to `out` (the base's other files
 * copied). `weights` is not modified.
 *
 * @example
 * ```ts
 * import { writeMergedFolder, type LoraAdapter } from "@refine-af/model-llama"
 * import type { HostTensor } from "@refine-af/tensor"
 * declare const weights: Record<string, HostTensor>
 * declare const adapter: LoraAdapter
 * const write = writeMergedFolder({ baseFolder: "models/llama", weights, adapter, out: "out/model" })
 * ```
 */
export const writeMergedFolder = (request: {
  readonly baseFolder: string
  readonly weights: Readonly<Record<string, HostTensor>>
  readonly adapter: LoraAdapter
  readonly out: string
  /** What the card says the adapter is (a run's stage, a folder). */
  readonly adapterSource?: string
  /** The weights' dtype (default `auto`: the base's). The merge itself is float32; the sum is rounded once. */
  readonly dtype?: MergedDtype
  /** The largest weight file in bytes before the weights are sharded (default 5 × 10⁹, as transformers). */
  readonly maxShardBytes?: number
}): Effect.Effect<MergedModelResult, SafetensorsIoError | SafetensorsFormatError> =>
  Effect.scoped(Effect.gen(function* () {
    const { baseFolder, out } = request
    const merged = mergeAdapter(request.weights, request.adapter)
    const ioError = (cause: unknown) => new SafetensorsIoError({ path: out, message: `Could not write the merged model into ${out}: ${String(cause)}. Check that the folder is writable.` })
    const baseConfig = yield* Effect.tryPromise({ try: async () => JSON.parse(await readFile(nodePath.join(baseFolder, "config.json"), "utf8")) as Record<string, unknown>, catch: ioError })
    const dtype = mergedDtypeFor(request.dtype ?? "auto", baseConfig)
    const fileDtype = SAFETENSORS_DTYPE[dtype]
    const imageSide = yield* openImageSide(baseFolder, baseConfig)
    const outsideMerged = yield* checkOutsidePairs(request.adapter, imageSide, baseFolder)
    yield* Effect.tryPromise({ try: () => mkdir(out, { recursive: true }), catch: ioError })
    // Each weight under the name the base's checkpoint gives it, with the image side's tensors read when their shard is written.
    const stored = (name: string) => (imageSide === undefined ? name : imageSide.names.decoder.get(name) ?? multimodalTensorName(name))
    const entries = new Map<string, { readonly shape: ReadonlyArray<number>; readonly load: Effect.Effect<Float32Array, SafetensorsIoError> }>()
    for (const [name, tensor] of Object.entries(merged)) entries.set(stored(name), { shape: tensor.shape, load: Effect.succeed(tensor.data as Float32Array) })
    for (const name of imageSide?.names.outside ?? []) {
      const shape = (yield* imageSide!.source.entry(name).pipe(Effect.mapError(ioError))).shape
      entries.set(name, { shape, load: imageSideTensor(imageSide!.source, name, request.adapter, ioError) })
    }
    const names = [...entries.keys()].sort()
    const sizes = names.map((name) => [name, entries.get(name)!.shape.reduce((product, dim) => product * dim, 1) * bytesPerElement(fileDtype)] as const)
    const shards = shardTensors(sizes, request.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES)
    const fileOf = (k: number) => (shards.length === 1 ? "model.safetensors" : `model-${String(k + 1).padStart(5, "0")}-of-${String(shards.length).padStart(5, "0")}.safetensors`)
    const tensor = (name: string, data: Float32Array): TensorToWrite => {
      const shape = [...entries.get(name)!.shape]
      // Converted as each tensor is written: one tensor's half-precision copy in memory at a time.
      return fileDtype === "F32" ? { name, dtype: fileDtype, shape, data } : { name, dtype: fileDtype, shape, produce: () => toHalfPrecision(data, fileDtype) }
    }
    for (const [k, shard] of shards.entries()) {
      const tensors: Array<TensorToWrite> = []
      for (const name of shard) tensors.push(tensor(name, yield* entries.get(name)!.load))
      yield* writeSafetensors(nodePath.join(out, fileOf(k)), tensors, { format: "pt" })
    }
    if (shards.length > 1) {
      const index = { metadata: { total_size: sizes.reduce((sum, [, size]) => sum + size, 0) }, weight_map: Object.fromEntries(shards.flatMap((shard, k) => shard.map((name) => [name, fileOf(k)]))) }
      yield* Effect.tryPromise({ try: () => writeFile(nodePath.join(out, "model.safetensors.index.json"), JSON.stringify(index, null, 2) + "\n"), catch: ioError })
    }
    const bytes = yield* Effect.tryPromise({
      try: async () => {
        for (const entry of await readdir(baseFolder, { withFileTypes: true })) {
          if (!entry.isFile() || isWeightFile(entry.name) || isNotCopied(entry.name)) continue
          const from = nodePath.join(baseFolder, entry.name)
          const to = nodePath.join(out, entry.name)
          if (entry.name === "config.json") await writeFile(to, JSON.stringify(withDtype(baseConfig, dtype), null, 2) + "\n")
          else await copyFile(from, to)
        }
        await writeFile(nodePath.join(out, "README.md"), mergedCard(baseFolder, request.adapterSource, dtype, shards.length))
        let total = 0
        for (const entry of await readdir(out, { withFileTypes: true })) if (entry.isFile()) total += (await stat(nodePath.join(out, entry.name))).size
        return total
      },
      catch: ioError
    })
    const parameters = names.reduce((sum, name) => sum + entries.get(name)!.shape.reduce((product, dim) => product * dim, 1), 0)
    return { out, dtype, shards: shards.length, mergedModules: request.adapter.pairs.size + outsideMerged, tensors: names.length, parameters, bytes }
  }))

/**
 * The config with the written dtype: transformers ≥ 4.56 writes `dtype` and prefers it to `torch_dtype`, so both
 * name it, and so do a multimodal config's sub-configs where they carry one.
 */
const withDtype = (config: Readonly<Record<string, unknown>>, dtype: string): Record<string, unknown> => {
  const set = (part: Readonly<Record<string, unknown>>) => ({ ...part, ...("torch_dtype" in part ? { torch_dtype: dtype } : {}), ...("dtype" in part ? { dtype } : {}) })
  const nested = Object.fromEntries(["text_config", "vision_config"].flatMap((key) => {
    const part = config[key]
    return typeof part === "object" && part !== null && !Array.isArray(part) ? [[key, set(part as Record<string, unknown>)]] : []
  }))
  return { ...set(config), torch_dtype: dtype, ...nested }
}

/** A multimodal base's checkpoint files, opened to name the decoder's tensors as they are stored and to write its image side through; undefined for a text model. */
const openImageSide = (baseFolder: string, baseConfig: Readonly<Record<string, unknown>>): Effect.Effect<{ readonly source: TensorSource; readonly names: CheckpointNames } | undefined, SafetensorsIoError, Scope.Scope> =>
  (MULTIMODAL_MODEL_TYPES as ReadonlyArray<unknown>).includes(baseConfig.model_type)
    ? Effect.gen(function* () {
      const model = yield* loadModelFolder(baseFolder)
      const source = yield* openCheckpointFiles(model)
      return { source, names: checkpointNames(source.names, model.config) }
    }).pipe(Effect.mapError((error) => new SafetensorsIoError({ path: baseFolder, message: `Could not read the image side of the multimodal base ${baseFolder}: ${error.message}` })))
    : Effect.succeed(undefined)

/** How many of the adapter's image-side modules the base has (all, or a failure naming the ones it lacks or holds at another shape). */
const checkOutsidePairs = (adapter: LoraAdapter, imageSide: { readonly source: TensorSource; readonly names: CheckpointNames } | undefined, baseFolder: string) =>
  Effect.gen(function* () {
    const pairs = [...(adapter.outside?.values() ?? [])]
    const byCurrent = new Map((imageSide?.names.outside ?? []).map((name) => [currentTensorName(name), name]))
    const problems: Array<string> = []
    for (const pair of pairs) {
      const name = byCurrent.get(`${pair.module}.weight`)
      const found = name === undefined ? undefined : yield* Effect.option(imageSide!.source.entry(name))
      const shape = found?._tag === "Some" ? found.value.shape : undefined
      if (shape === undefined) problems.push(`${pair.module} has no weight in the base`)
      else if (shape.join(",") !== `${pair.outFeatures},${pair.inFeatures}`) problems.push(`${pair.module} is [${pair.outFeatures}, ${pair.inFeatures}] in the adapter but [${shape}] in the base`)
    }
    return problems.length === 0
      ? pairs.length
      : yield* Effect.fail(new SafetensorsIoError({ path: baseFolder, message: `The adapter's image-side LoRA modules do not fit the base ${baseFolder}:\n  - ${problems.join("\n  - ")}\nMerge the adapter into the model it was trained on.` }))
  })

/** An image-side tensor of the base as float32, with the adapter's LoRA module of the same name merged in. */
const imageSideTensor = (source: TensorSource, name: string, adapter: LoraAdapter, ioError: (cause: unknown) => SafetensorsIoError): Effect.Effect<Float32Array, SafetensorsIoError> =>
  Effect.map(source.readFloat32(name).pipe(Effect.mapError((error) => ioError(error.message))), (values) => {
    const current = currentTensorName(name)
    const pair = current.endsWith(".weight") ? adapter.outside?.get(current.slice(0, -".weight".length)) : undefined
    return pair === undefined ? values : mergeLoraPair(values, pair, adapterScale(adapter))
  })

/** Merges `adapter` into `base` and writes the result to `out` (see the module doc). */
export const writeMergedModel = (request: MergedModelRequest & { readonly dtype?: MergedDtype; readonly maxShardBytes?: number }) =>
  Effect.gen(function* () {
    const model = yield* loadModelFolder(request.base)
    const weights = yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, request.base)))
    const adapter = yield* readAdapter(request.adapter, model.config)
    return yield* writeMergedFolder({ baseFolder: request.base, weights, adapter, out: request.out, adapterSource: `\`${request.adapter}\``, ...(request.dtype === undefined ? {} : { dtype: request.dtype }), ...(request.maxShardBytes === undefined ? {} : { maxShardBytes: request.maxShardBytes }) })
  })
