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
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { loadModelFolder, loadWeights, openWeights, SafetensorsIoError, writeSafetensors } from "@refine-af/models"
import { Effect } from "effect"
import { readAdapter } from "./adapter-io.ts"
import { mergeAdapter } from "./merge.ts"

/** Where the base, the adapter and the merged folder are. */
export interface MergedModelRequest {
  readonly base: string
  readonly adapter: string
  readonly out: string
}

/** Files of the base folder that are not weights (copied as they are; config.json gets torch_dtype float32). */
const isWeightFile = (name: string) => /\.(safetensors|bin|pt|pth|ckpt|gguf)$/.test(name) || /\.index\.json$/.test(name)

/** Merges `adapter` into `base` and writes the result to `out` (see the module doc). */
export const writeMergedModel = (request: MergedModelRequest) =>
  Effect.gen(function* () {
    const model = yield* loadModelFolder(request.base)
    const weights = yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, request.base)))
    const adapter = yield* readAdapter(request.adapter, model.config)
    const merged = mergeAdapter(weights, adapter)
    const ioError = (cause: unknown) => new SafetensorsIoError({ path: request.out, message: `Could not write the merged model into ${request.out}: ${String(cause)}. Check that the folder is writable.` })
    yield* Effect.tryPromise({ try: () => mkdir(request.out, { recursive: true }), catch: ioError })
    const names = Object.keys(merged).sort()
    yield* writeSafetensors(nodePath.join(request.out, "model.safetensors"), names.map((name) => ({ name, dtype: "F32" as const, shape: [...merged[name]!.shape], data: merged[name]!.data as Float32Array })), { format: "pt" })
    yield* Effect.tryPromise({
      try: async () => {
        for (const entry of await readdir(request.base, { withFileTypes: true })) {
          if (!entry.isFile() || isWeightFile(entry.name)) continue
          const from = nodePath.join(request.base, entry.name)
          const to = nodePath.join(request.out, entry.name)
          if (entry.name === "config.json") {
            const config = JSON.parse(await readFile(from, "utf8")) as Record<string, unknown>
            await writeFile(to, JSON.stringify({ ...config, torch_dtype: "float32" }, null, 2) + "\n")
          } else await copyFile(from, to)
        }
      },
      catch: ioError
    })
    return { out: request.out, mergedModules: adapter.pairs.size, tensors: names.length }
  })
