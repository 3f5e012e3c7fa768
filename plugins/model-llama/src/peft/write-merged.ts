/**
 * A merged model folder on request: base weights with a PEFT LoRA adapter
 * merged in (W + scale·B·A), written as a plain Hugging Face folder (float32
 * `model.safetensors`, the base's config, generation config, tokenizer and
 * licence files, and a model card of its own) that runs anywhere without PEFT.
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
import { loadModelFolder, loadWeights, openWeights, pulledFrom, SafetensorsIoError, writeSafetensors, type SafetensorsFormatError } from "@refine-af/models"
import type { HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import type { LoraAdapter } from "./adapter.ts"
import { readAdapter } from "./adapter-io.ts"
import { mergeAdapter } from "./merge.ts"

/** Where the base, the adapter and the merged folder are. */
export interface MergedModelRequest {
  readonly base: string
  readonly adapter: string
  readonly out: string
}

/** What was written. */
export interface MergedModelResult {
  readonly out: string
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
const mergedCard = (baseFolder: string, adapterSource: string | undefined): string => {
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
  return [...front, "", `${base} with ${adapter} merged into its weights (W + scale·B·A) by refine-af's \`llama/merge\`: float32 weights in \`model.safetensors\`, the base's configuration and tokenizer files. It loads without PEFT. The base model's licence and use policy apply.`, ""].join("\n")
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
}): Effect.Effect<MergedModelResult, SafetensorsIoError | SafetensorsFormatError> =>
  Effect.gen(function* () {
    const { baseFolder, out } = request
    const merged = mergeAdapter(request.weights, request.adapter)
    const ioError = (cause: unknown) => new SafetensorsIoError({ path: out, message: `Could not write the merged model into ${out}: ${String(cause)}. Check that the folder is writable.` })
    yield* Effect.tryPromise({ try: () => mkdir(out, { recursive: true }), catch: ioError })
    const names = Object.keys(merged).sort()
    yield* writeSafetensors(nodePath.join(out, "model.safetensors"), names.map((name) => ({ name, dtype: "F32" as const, shape: [...merged[name]!.shape], data: merged[name]!.data as Float32Array })), { format: "pt" })
    const bytes = yield* Effect.tryPromise({
      try: async () => {
        for (const entry of await readdir(baseFolder, { withFileTypes: true })) {
          if (!entry.isFile() || isWeightFile(entry.name) || isNotCopied(entry.name)) continue
          const from = nodePath.join(baseFolder, entry.name)
          const to = nodePath.join(out, entry.name)
          if (entry.name === "config.json") {
            const config = JSON.parse(await readFile(from, "utf8")) as Record<string, unknown>
            // transformers ≥ 4.56 writes `dtype` and prefers it to `torch_dtype`: both must say float32.
            await writeFile(to, JSON.stringify({ ...config, torch_dtype: "float32", ...("dtype" in config ? { dtype: "float32" } : {}) }, null, 2) + "\n")
          } else await copyFile(from, to)
        }
        await writeFile(nodePath.join(out, "README.md"), mergedCard(baseFolder, request.adapterSource))
        let total = 0
        for (const entry of await readdir(out, { withFileTypes: true })) if (entry.isFile()) total += (await stat(nodePath.join(out, entry.name))).size
        return total
      },
      catch: ioError
    })
    const parameters = names.reduce((sum, name) => sum + merged[name]!.data.length, 0)
    return { out, mergedModules: request.adapter.pairs.size, tensors: names.length, parameters, bytes }
  })

/** Merges `adapter` into `base` and writes the result to `out` (see the module doc). */
export const writeMergedModel = (request: MergedModelRequest) =>
  Effect.gen(function* () {
    const model = yield* loadModelFolder(request.base)
    const weights = yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, request.base)))
    const adapter = yield* readAdapter(request.adapter, model.config)
    return yield* writeMergedFolder({ baseFolder: request.base, weights, adapter, out: request.out, adapterSource: `\`${request.adapter}\`` })
  })
