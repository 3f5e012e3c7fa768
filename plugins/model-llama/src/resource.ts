/**
 * Recipe component `llama/hf`: a Hugging Face Llama-family folder served as
 * the core `LanguageModel` and the training `PolicyModel` (weights loaded once),
 * running on whatever `Backend` the recipe supplies.
 *
 * @example
 * ```yaml
 * resources:
 *   compute:
 *     _component_: backend-onnx/onnx
 *   policy:
 *     _component_: llama/hf
 *     backend: compute          # the Backend resource slot
 *     path: ./models/tiny-llama # config.json, model.safetensors, tokenizer.json
 *     # or, offline with no folder: builtin: { preset: qwen2, seed: 0 }
 *     max_context: 1024
 *     precision: int4           # frozen weights: float32 (default) | float16 | int8 | int4
 *     lora: ./runs/sft/adapter  # optional PEFT adapter folder
 * ```
 */
import { defineResource, LanguageModel, RecipePath, resolveRecipePath, StageError, type ResourceContext } from "@refine-af/core"
import { checkLlamaFolder, runDigestMemo, SUPPORTED_MODEL_TYPES, TINY_PRESET_NAMES } from "@refine-af/models"
import { Backend } from "@refine-af/tensor"
import { PolicyModel } from "@refine-af/training"
import { Context, Effect, Schema } from "effect"
import * as nodePath from "node:path"
import { modelFolder } from "./builtin/model-source.ts"
import { SPEAKER_PRESET } from "./builtin/speaker.ts"
import { LlamaCheckpoint } from "./checkpoint.ts"
import { loadLlama } from "./service/load.ts"

/** The `builtin` option of `llama/hf` (and `llama/merge`): the trained `speaker`, or a random tiny preset. */
export const BuiltinModelOption = Schema.Union([
  Schema.Literal("speaker"),
  Schema.Struct({
    preset: Schema.Literals([SPEAKER_PRESET, ...TINY_PRESET_NAMES]).annotate({ description: `speaker: the trained tiny model; ${TINY_PRESET_NAMES.join(" / ")}: a random tiny model (machinery tests).` }),
    seed: Schema.optionalKey(Schema.Int.annotate({ description: "Seed of a random preset's weights (default 0)." })),
    cacheDir: Schema.optionalKey(Schema.String.annotate({ description: "Where a random preset is written once (default $REFINE_AF_MODELS, else .refine-af/models)." }))
  })
]).annotate({ description: "A built-in model instead of a folder: speaker, or { preset, seed, cacheDir }." })

/** Options of `llama/hf`. */
export const LlamaResourceOptions = Schema.Struct({
  /** Model folder in Hugging Face layout (give this or `builtin`). */
  path: Schema.optionalKey(RecipePath("dir", "model folder in Hugging Face layout (config.json, model.safetensors, tokenizer.json); give this or `builtin`", checkLlamaFolder)).annotate({ description: "Model folder in Hugging Face layout (give this or `builtin`)." }),
  /**
   * A built-in model instead of a folder. `speaker` (or `{ preset: speaker }`):
   * the small trained model committed in this package, which writes the
   * pipeline's prompt formats. `{ preset: <a tiny preset: qwen2, llama, …>, seed }`: a
   * random tiny model written once into `cacheDir` (default
   * `$REFINE_AF_MODELS`, else `.refine-af/models`), then reused; its text is
   * nonsense, it exists to test machinery.
   */
  builtin: Schema.optionalKey(BuiltinModelOption),
  /** Compute dtype; weights on disk (F32/F16/BF16) are converted. Only float32 compute is implemented. */
  dtype: Schema.optionalKey(Schema.Literals(["float32", "auto"])).annotate({ description: "Compute dtype; weights on disk (F32/F16/BF16) are converted. Only float32 compute is implemented." }),
  /** PEFT LoRA adapter folder to enable. */
  lora: Schema.optionalKey(RecipePath("dir", "PEFT LoRA adapter folder")).annotate({ description: "PEFT LoRA adapter folder to enable." }),
  /** Context length in tokens (default: the model's, capped at 4096). */
  max_context: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(2))).annotate({ description: "Context length in tokens (default: the model's, capped at 4096; a larger value than the model's own is cut to it, with a warning)." }),
  /** Rows decoded together (default 16; 8 where that much KV cache at the full context is large: `defaultMaxBatch`). */
  max_batch: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))).annotate({ description: "Rows decoded together (default 16, or 8 where 16 rows of KV cache at the full context would take more than an eighth of the machine's memory, as for 7B-class models). On the CPU a decode step reads every weight once whatever its rows: 16 rows gave 1.2-1.9× the tokens/s of 8 on 30M-1.1B models. With the default, prefills and scoring stay at 8 rows a program; a value set here applies to them too." }),
  /** Storage precision of the frozen weights; LoRA adapters, value heads and optimizer state stay float32. */
  precision: Schema.optionalKey(Schema.Literals(["float32", "float16", "int8", "int4"])).annotate({
    description: "Frozen weights: float32 (default); float16 (weights of rank ≥ 2); int8 / int4 (decoder projections, block-wise symmetric, cached under the run's cache folder). Adapters, value heads and optimizer state stay float32."
  }),
  /** How programs get the frozen float32 weights: one shared upload, or a copy baked into each program. */
  weight_mode: Schema.optionalKey(Schema.Literals(["shared", "baked", "decode"])).annotate({
    description: "Frozen float32 weights: shared (uploaded once, bound to every program: one copy in memory), baked (a copy inside each compiled program; on cuda they then live on the GPU, where shared host weights would be copied to the device at every run) or decode (shared, plus one baked copy that every decode step shares: batch-1 decode ~1.2-1.6× faster on the CPU). Default: decode for float32 weights on the CPU with a run cache (the weights are then mapped from a float32 copy in the cache and the decode steps' pre-packed form is made once on disk: no copy in memory), else shared; decode without the cache costs about three times the weight bytes more memory and bakes only while free memory allows."
  }),
  /** Which decode steps `weight_mode: decode` bakes the float32 weights into, by their rows. */
  baked_decode_rows: Schema.optionalKey(Schema.Union([Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)), Schema.Literal("all")])).annotate({
    description: "With weight_mode decode (the default for float32 weights on the CPU with a run cache): bake the weights into decode steps of at most this many rows (all: every decode step; 0: none). Default: the widths at which the backend finds a pre-packed product worth a second copy of the weights. all trades memory for speed: measured on a 1.1B model with AVX-512 kernels, a job's generation 15-20% faster for about twice the weight bytes in file pages (PSS 2.08x against 1.10x)."
  }),
  /** How programs get frozen weights held below float32 (`precision`). */
  quantised_binding: Schema.optionalKey(Schema.Literals(["auto", "shared", "baked"])).annotate({
    description: "Frozen weights below float32: auto (default: baked into decode-step programs, one new token per row, where the pre-packed quantised matmul is fast, while free memory leaves room for another copy — else with a warning shared —, and stored once and shared by every other program: prefill, scoring, training, reference), shared (one stored copy for every program, dequantised by each run: least memory, slower decoding) or baked (a copy inside each program: fastest, memory grows with the number of programs)."
  }),
  /** How int8 / int4 decode steps read the float32 LM head mapped from the cache. */
  decode_head: Schema.optionalKey(Schema.Literals(["prepacked", "mapped"])).annotate({
    description: "With int8 / int4 weights, quantised_binding auto and the run's cache on the CPU: how decode steps read the float32 LM head. prepacked (default): onnxruntime's pre-packed form, made once into the backend's store (fastest). mapped: the cache file's bytes as they are: one resident form of the head instead of two, and none made while each decode session is created (at 7B int4 that was the whole 0.7-1.0 GiB transient of a session's creation), decoding a few per cent slower."
  }),
  /** Whether cached frozen weights are read from the cache file by memory mapping. */
  map_cached_weights: Schema.optionalKey(Schema.Boolean).annotate({
    description: "With the run's cache, on the CPU: read the frozen weights from the weight cache file by memory mapping (default true: the process holds no copy of them; the file's pages are shared by every program and can be dropped and read again by the system; at float32 the cache then holds a float32 copy of the checkpoint, written once). false: read them into memory once, as without a cache (for a cache folder on a file system where mapping is slow or unsafe, or to save the float32 copy's disk space)."
  }),
  /** int8 / int4 block size. */
  block_size: Schema.optionalKey(Schema.Literals([16, 32, 64, 128, 256])).annotate({ description: "Values per quantisation scale for int8 / int4 (default 32)." })
}).check(Schema.makeFilter<{ readonly path?: unknown; readonly builtin?: unknown }>((options) =>
  options.path !== undefined && options.builtin !== undefined
    ? "give either `path` (a model folder) or `builtin` (a built-in model), not both: remove one of them"
    : undefined
))

/** The options with `builtin.cacheDir` made absolute from the recipe's folder (`path` and `lora` are `RecipePath`s: the core resolves them). */
const withRecipePaths = (ctx: ResourceContext<typeof LlamaResourceOptions.Type, { backend: typeof Backend }>) => {
  const { builtin } = ctx.options
  return {
    ...ctx.options,
    ...(typeof builtin !== "object" || builtin.cacheDir === undefined ? {} : { builtin: { ...builtin, cacheDir: resolveRecipePath(ctx, builtin.cacheDir) } }),
  }
}

/** What to do about a failed load, by what failed. */
const loadFix = (error: { readonly _tag: string; readonly fix?: string }): string => {
  switch (error._tag) {
    case "ModelSourceError":
      return error.fix ?? "Check the model source options."
    case "UnsupportedArchitectureError":
      return `Use a ${SUPPORTED_MODEL_TYPES.join(", ")} checkpoint.`
    case "NonFiniteWeightsError":
      return "Re-download or re-convert the checkpoint: a weight holding NaN or Inf makes every output garbage."
    case "InvalidConfigError":
      return "Fix the fields listed in config.json (it must belong to these weights; see the model card)."
    case "ModelFolderError":
      return `Point "path" at a folder with config.json, model.safetensors and tokenizer.json (make one with tools/tiny-model/make-tiny-model.ts), or use builtin: { preset: qwen2 } instead of "path" for the built-in tiny model.`
    case "TokenizerError":
      return "tokenizer.json (and tokenizer_config.json) must be the model's own, complete files: copy them again from the model's repository (`refine-af models pull` downloads and verifies them)."
    case "SafetensorsFormatError":
    case "SafetensorsIoError":
    case "TorchZipError":
    case "TorchTensorError":
      return "The weight file is damaged, truncated or unreadable: download it again (`refine-af models pull` verifies sizes and hashes) or re-convert the checkpoint, and check the file's permissions."
    case "CheckpointError":
    case "TensorNotFoundError":
      return "config.json and the weight files must come from the same checkpoint: download the folder again, or fix config.json to match the weights (see the model card)."
    case "UnsupportedDtypeError":
      return "Convert the weights to float32, float16 or bfloat16 safetensors."
    case "UnsafePickleError":
      return "Convert the pytorch_model.bin to safetensors with a tool you trust; refine-af does not run pickled code."
    case "InsufficientMemoryError":
      return "Choose a narrower `precision` (the message names one that fits, where any does), free memory, or use a machine with more."
    case "AdapterFormatError":
      return "\"lora\" must be a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) trained on this base model."
    default:
      return "See the message for the file and field at fault."
  }
}

/** The resource component. */
export const llamaResource = defineResource({
  description: "Llama / Mistral / Qwen2 / Qwen3 / OLMo 2 / SmolLM3 / Granite decoder from a Hugging Face folder, on the compute core (generation, scoring, LoRA adapters).",
  // One load, three contracts: generation/scoring, trainer sessions over the same frozen weights,
  // and the base checkpoint itself (folder + host weights, for llama/merge).
  provides: [LanguageModel, PolicyModel, LlamaCheckpoint],
  options: LlamaResourceOptions,
  uses: { backend: Backend },
  make: (ctx) => {
    const options = withRecipePaths(ctx)
    return modelFolder(options).pipe(Effect.flatMap((folder) => loadLlama(folder, ctx.uses.backend, {
      ...(options.max_context === undefined ? {} : { contextLength: options.max_context }),
      ...(options.max_batch === undefined ? {} : { maxBatch: options.max_batch }),
      ...(options.lora === undefined ? {} : { adapterPath: options.lora }),
      ...(options.weight_mode === undefined ? {} : { weightMode: options.weight_mode }),
      ...(options.baked_decode_rows === undefined ? {} : { bakedDecodeRows: options.baked_decode_rows === "all" ? Number.POSITIVE_INFINITY : options.baked_decode_rows }),
      ...(options.quantised_binding === undefined ? {} : { quantisedBinding: options.quantised_binding }),
      ...(options.decode_head === undefined ? {} : { decodeHead: options.decode_head }),
      ...(options.map_cached_weights === undefined ? {} : { mapCachedWeights: options.map_cached_weights }),
      onQuantisedFallback: (message) => ctx.events.warn(`${ctx.name}: ${message}`),
      ...runDigestMemo(ctx.cacheDir),
      precision: {
        precision: options.precision ?? "float32",
        ...(options.block_size === undefined ? {} : { blockSize: options.block_size }),
        ...(ctx.cacheDir === undefined ? {} : { cacheRoot: nodePath.join(ctx.cacheDir, "quant") })
      }
    }).pipe(
      Effect.tap((loaded) => loaded.quantCacheDamaged !== undefined ? ctx.events.warn(`${ctx.name}: ${loaded.quantCacheDamaged}`) : Effect.void),
      // The model's own context is the limit: a larger max_context is cut to it, and said so.
      Effect.tap((loaded) => options.max_context !== undefined && options.max_context > loaded.model.config.maxPositionEmbeddings
        ? ctx.events.warn(`${ctx.name}: max_context ${options.max_context} is above the model's own context of ${loaded.model.config.maxPositionEmbeddings} tokens (max_position_embeddings in its config.json): using ${loaded.model.config.maxPositionEmbeddings}`)
        : Effect.void),
      Effect.tap((loaded) => loaded.quantCache === "unwritable" ? ctx.events.warn(`${ctx.name}: could not write the weight cache under ${ctx.cacheDir} (disk full or read-only?); the weights stay in memory and the next load tries again`) : Effect.void),
      Effect.map((loaded) => ({ loaded, folder }))
    ))).pipe(
      Effect.map(({ loaded, folder }) =>
        Context.make(LanguageModel, loaded.service).pipe(
          Context.add(PolicyModel, loaded.policy),
          Context.add(LlamaCheckpoint, { folder, id: loaded.base.info.id, config: loaded.model.config, weights: loaded.runtime.weights, quantised: Object.keys(loaded.runtime.quantised).length > 0 })
        )
      ),
      Effect.mapError((error) => new StageError({
        stage: ctx.name,
        message: `${ctx.name}: ${error.message}`,
        fix: loadFix(error)
      }))
    )
  }
})
