/**
 * Saving and loading LoRA adapters as PEFT folders: `adapter_config.json` +
 * `adapter_model.safetensors`. Loading checks every tensor name and shape
 * (and, given the model config, that shapes fit the model). A multimodal base's
 * adapter names the decoder's modules as PEFT does there (`model.language_model.…`,
 * or transformers 4.50's `language_model.model.…` when read).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { currentTensorName, decoderTensorName, openSafetensors, projectionsOf, SafetensorsIoError, writeSafetensors, type LlamaConfig, type TensorToWrite } from "@refine-af/models"
import { peftTensorName, projectionShape, type LoraAdapter, type LoraPair } from "./adapter.ts"
import { AdapterFormatError } from "./errors.ts"
import { parseAdapterConfig, toAdapterConfigJson, type LoraTarget } from "./lora-config.ts"

/** A PEFT LoRA tensor: the adapted module's path in the wrapped model, and which matrix. */
const PEFT_TENSOR = /^base_model\.model\.(.+)\.lora_(A|B)(?:\.default)?\.weight$/

/** A decoder projection's module path (text model names). */
const DECODER_MODULE = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+_proj)$/

const EXPECTED_NAME = "base_model.model.model.layers.N.<self_attn|mlp>.<proj>.lora_<A|B>.weight (model.language_model.layers.N… for a multimodal base)"

/**
 * Where a PEFT module path belongs: the decoder (its text-model path), the image side of a multimodal
 * model (its current path), or nowhere this reader knows.
 */
const placeModule = (stored: string): { readonly decoder: string } | { readonly outside: string } | undefined => {
  const current = currentTensorName(stored)
  const inner = current.startsWith("model.language_model.") ? decoderTensorName(current) : current
  if (inner !== undefined && DECODER_MODULE.test(inner)) return { decoder: inner }
  return current.startsWith("model.vision_tower.") || current.startsWith("model.multi_modal_projector.") ? { outside: current } : undefined
}

/**
 * Writes `adapter` into `folder` (created if needed).
 *
 * @example
 * ```ts
 * import { writeAdapter, type LoraAdapter } from "@refine-af/model-llama"
 * declare const adapter: LoraAdapter
 * const save = writeAdapter("runs/sft/adapter", adapter)
 * ```
 * With `model` a multimodal base's config, the decoder's modules are named as PEFT names them there.
 */
export const writeAdapter = Effect.fnUntraced(function* (folder: string, adapter: LoraAdapter, model?: Pick<LlamaConfig, "multimodal">) {
  const outside = [...(adapter.outside?.values() ?? [])]
  const json = toAdapterConfigJson(adapter.config, { multimodal: model?.multimodal ?? null, outsideModules: outside.map((pair) => pair.module) })
  yield* Effect.tryPromise({
    try: async () => {
      await mkdir(folder, { recursive: true })
      await writeFile(nodePath.join(folder, "adapter_config.json"), JSON.stringify(json, null, 2) + "\n")
    },
    catch: (cause) => new SafetensorsIoError({ path: folder, message: `Could not write the adapter config into ${folder}: ${String(cause)}` })
  })
  const tensors: Array<TensorToWrite> = []
  for (const pair of [...adapter.pairs.values(), ...outside]) {
    tensors.push({ name: peftTensorName(pair.module, "A", model), dtype: "F32", shape: [adapter.config.r, pair.inFeatures], data: pair.a })
    tensors.push({ name: peftTensorName(pair.module, "B", model), dtype: "F32", shape: [pair.outFeatures, adapter.config.r], data: pair.b })
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
    const halves = new Map<string, { a?: Float32Array; b?: Float32Array; aShape?: ReadonlyArray<number>; bShape?: ReadonlyArray<number>; layer: number; target: string; outside: boolean }>()
    const imageSide = model === undefined || model.multimodal !== null
    for (const [name, entry] of file.header.tensors) {
      const match = PEFT_TENSOR.exec(name)
      const place = match === null ? undefined : placeModule(match[1]!)
      if (match === null || place === undefined || ("outside" in place && !imageSide)) {
        problems.push(`unexpected tensor "${name}" (expected ${EXPECTED_NAME})`)
        continue
      }
      const module = "decoder" in place ? place.decoder : place.outside
      const [, layer = "-1", target = ""] = DECODER_MODULE.exec(module) ?? []
      const values = yield* file.readFloat32(name)
      const half = halves.get(module) ?? { layer: Number(layer), target, outside: "outside" in place }
      if (match[2] === "A") Object.assign(half, { a: values, aShape: entry.shape })
      else Object.assign(half, { b: values, bShape: entry.shape })
      halves.set(module, half)
    }
    const pairs = new Map<string, LoraPair>()
    const outside = new Map<string, LoraPair>()
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
      // The image side's modules are checked against the base's tensors where they are merged.
      if (half.outside) {
        outside.set(module, { module, inFeatures, outFeatures, a: half.a, b: half.b })
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
    if (pairs.size === 0 && problems.length === 0) problems.push(outside.size === 0 ? "no LoRA tensors" : "no LoRA tensors on the language model (only on the image side, which text never passes through)")
    if (problems.length > 0) {
      return yield* Effect.fail(new AdapterFormatError({ path: weightsPath, problems, message: `${weightsPath} is not a usable LoRA adapter:\n  - ${problems.join("\n  - ")}` }))
    }
    return (outside.size === 0 ? { config, pairs } : { config, pairs, outside }) satisfies LoraAdapter
  }))
