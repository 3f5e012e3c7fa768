/**
 * Saving and loading LoRA adapters as PEFT folders: `adapter_config.json` +
 * `adapter_model.safetensors`. Loading checks every tensor name and shape
 * (and, given the model config, that shapes fit the model).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { projectionsOf, type LlamaConfig } from "@refine-af/models"
import { openSafetensors } from "@refine-af/models"
import { SafetensorsIoError } from "@refine-af/models"
import { writeSafetensors, type TensorToWrite } from "@refine-af/models"
import { peftTensorName, projectionShape, type LoraAdapter, type LoraPair } from "./adapter.ts"
import { AdapterFormatError } from "./errors.ts"
import { parseAdapterConfig, toAdapterConfigJson, type LoraTarget } from "./lora-config.ts"

const TENSOR_NAME = /^base_model\.model\.(model\.layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+_proj))\.lora_(A|B)(?:\.default)?\.weight$/

/**
 * Writes `adapter` into `folder` (created if needed).
 *
 * @example
 * ```ts
 * import { writeAdapter, type LoraAdapter } from "@refine-af/model-llama"
 * declare const adapter: LoraAdapter
 * const save = writeAdapter("runs/sft/adapter", adapter)
 * ```
 */
export const writeAdapter = Effect.fnUntraced(function* (folder: string, adapter: LoraAdapter) {
  yield* Effect.tryPromise({
    try: async () => {
      await mkdir(folder, { recursive: true })
      await writeFile(nodePath.join(folder, "adapter_config.json"), JSON.stringify(toAdapterConfigJson(adapter.config), null, 2) + "\n")
    },
    catch: (cause) => new SafetensorsIoError({ path: folder, message: `Could not write the adapter config into ${folder}: ${String(cause)}` })
  })
  const tensors: Array<TensorToWrite> = []
  for (const pair of adapter.pairs.values()) {
    tensors.push({ name: peftTensorName(pair.module, "A"), dtype: "F32", shape: [adapter.config.r, pair.inFeatures], data: pair.a })
    tensors.push({ name: peftTensorName(pair.module, "B"), dtype: "F32", shape: [pair.outFeatures, adapter.config.r], data: pair.b })
  }
  yield* writeSafetensors(nodePath.join(folder, "adapter_model.safetensors"), tensors, { format: "pt" })
})

/** Reads a PEFT LoRA adapter folder; with `model`, shapes are checked against it. */
export const readAdapter = (folder: string, model?: LlamaConfig) =>
  Effect.scoped(Effect.gen(function* () {
    const configPath = nodePath.join(folder, "adapter_config.json")
    const text = yield* Effect.tryPromise({
      try: () => readFile(configPath, "utf8"),
      catch: () => new AdapterFormatError({ path: configPath, problems: ["missing"], message: `${configPath} is missing; a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors.` })
    })
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (cause) => new AdapterFormatError({ path: configPath, problems: [String(cause)], message: `${configPath} is not valid JSON.` })
    })
    const config = yield* parseAdapterConfig(configPath, json, model === undefined ? undefined : projectionsOf(model))
    const weightsPath = nodePath.join(folder, "adapter_model.safetensors")
    const file = yield* openSafetensors(weightsPath)
    const problems: Array<string> = []
    const halves = new Map<string, { a?: Float32Array; b?: Float32Array; aShape?: ReadonlyArray<number>; bShape?: ReadonlyArray<number>; layer: number; target: string }>()
    for (const [name, entry] of file.header.tensors) {
      const match = TENSOR_NAME.exec(name)
      if (!match) {
        problems.push(`unexpected tensor "${name}" (expected base_model.model.model.layers.N.<self_attn|mlp>.<proj>.lora_<A|B>.weight)`)
        continue
      }
      const [, module, layer, target, matrix] = match as unknown as [string, string, string, string, "A" | "B"]
      const values = yield* file.readFloat32(name)
      const half = halves.get(module) ?? { layer: Number(layer), target }
      if (matrix === "A") Object.assign(half, { a: values, aShape: entry.shape })
      else Object.assign(half, { b: values, bShape: entry.shape })
      halves.set(module, half)
    }
    const pairs = new Map<string, LoraPair>()
    for (const [module, half] of halves) {
      if (!half.a || !half.b || !half.aShape || !half.bShape) {
        problems.push(`${module} has only lora_${half.a ? "A" : "B"}`)
        continue
      }
      const [rankA, inFeatures] = half.aShape as [number, number]
      const [outFeatures, rankB] = half.bShape as [number, number]
      if (half.aShape.length !== 2 || half.bShape.length !== 2 || rankA !== config.r || rankB !== config.r) {
        problems.push(`${module}: lora_A [${half.aShape}] / lora_B [${half.bShape}] do not have rank r=${config.r}`)
        continue
      }
      if (!(config.targetModules as ReadonlyArray<string>).includes(half.target)) problems.push(`${module} is not in target_modules (${config.targetModules.join(", ")})`)
      if (model && !(projectionsOf(model) as ReadonlyArray<string>).includes(half.target)) {
        problems.push(`${module}: this ${model.architecture} model has no ${half.target} (its projections: ${projectionsOf(model).join(", ")}); the adapter was trained for another base model`)
      } else if (model) {
        const [out, input] = projectionShape(model, half.target as LoraTarget)
        if (half.layer >= model.numLayers || out !== outFeatures || input !== inFeatures) {
          problems.push(`${module} is [${outFeatures}, ${inFeatures}] but the model's is [${out}, ${input}] (layer count ${model.numLayers}); the adapter was trained for another base model`)
        }
      }
      pairs.set(module, { module, inFeatures, outFeatures, a: half.a, b: half.b })
    }
    if (pairs.size === 0 && problems.length === 0) problems.push("no LoRA tensors")
    if (problems.length > 0) {
      return yield* Effect.fail(new AdapterFormatError({ path: weightsPath, problems, message: `${weightsPath} is not a usable LoRA adapter:\n  - ${problems.join("\n  - ")}` }))
    }
    return { config, pairs } satisfies LoraAdapter
  }))
