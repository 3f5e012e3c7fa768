/**
 * A merged model folder on request: base weights with a PEFT LoRA adapter
 * merged in (W + scale·B·A), written as a plain Hugging Face folder (float32
 * `model.safetensors`, the base's config, generation config and tokenizer
 * files) that runs anywhere without PEFT.
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
import { loadModelFolder, loadWeights, openWeights, SafetensorsIoError, writeSafetensors, type SafetensorsFormatError } from "@refine-af/models"
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
          if (!entry.isFile() || isWeightFile(entry.name)) continue
          const from = nodePath.join(baseFolder, entry.name)
          const to = nodePath.join(out, entry.name)
          if (entry.name === "config.json") {
            const config = JSON.parse(await readFile(from, "utf8")) as Record<string, unknown>
            await writeFile(to, JSON.stringify({ ...config, torch_dtype: "float32" }, null, 2) + "\n")
          } else await copyFile(from, to)
        }
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
    return yield* writeMergedFolder({ baseFolder: request.base, weights, adapter, out: request.out })
  })
