/**
 * LoRA adapter weights in PEFT's layout: for each adapted projection
 * `base_model.model.<module>.lora_A.weight` [r, in] and `lora_B.weight`
 * [out, r] (row-major float32), plus creation, merging into base weights and
 * the shapes each target has in a given model.
 */
import { multimodalTensorName, projectionModule, projectionShape, type LlamaConfig } from "@refine-af/models"
import { loraScale, type LoraConfig, type LoraTarget } from "./lora-config.ts"

/** One adapted projection. `module` is the HF module path, e.g. `model.layers.0.self_attn.q_proj`. */
export interface LoraPair {
  readonly module: string
  readonly inFeatures: number
  readonly outFeatures: number
  /** [r, inFeatures] */
  readonly a: Float32Array
  /** [outFeatures, r] */
  readonly b: Float32Array
}

/** A LoRA adapter: hyper-parameters and the weights of each adapted module. */
export interface LoraAdapter {
  readonly config: LoraConfig
  /** The decoder's adapted projections, by module path in the text model's names (`model.layers.N.…`). */
  readonly pairs: ReadonlyMap<string, LoraPair>
  /**
   * Modules on the image side of a multimodal base (a PEFT adapter trained with `all-linear` adapts the
   * vision tower too), by module path in transformers' current names: text never passes through them, so
   * the decoder ignores them; they are written back with the adapter and merged into a merged folder.
   */
  readonly outside?: ReadonlyMap<string, LoraPair>
}

/** The HF module path of a projection in a layer. */
export const loraModulePath = (layer: number, target: LoraTarget): string => projectionModule(layer, target)

/**
 * PEFT's tensor name for a module's A or B matrix: `base_model.model.` and the module's path in the base
 * model PEFT wraps, which for a multimodal base (`model`) holds the decoder under `model.language_model.`.
 */
export const peftTensorName = (module: string, matrix: "A" | "B", model?: Pick<LlamaConfig, "multimodal">): string =>
  `base_model.model.${model?.multimodal != null && module.startsWith("model.layers.") ? multimodalTensorName(module) : module}.lora_${matrix}.weight`

/** [out, in] of a projection in a model of this config (the models package's, re-exported). */
export { projectionShape }

/**
 * A fresh adapter initialised like PEFT's default: A ~ U(-1/√in, 1/√in)
 * (kaiming-uniform with a = √5), B = 0, so the adapted model starts equal to
 * the base model. `uniform` supplies [0, 1) draws (seeded by the caller).
 */
export const initLoraAdapter = (config: LoraConfig, model: LlamaConfig, uniform: () => number): LoraAdapter => {
  const pairs = new Map<string, LoraPair>()
  for (let layer = 0; layer < model.numLayers; layer++) {
    for (const target of config.targetModules) {
      const [outFeatures, inFeatures] = projectionShape(model, target)
      const bound = 1 / Math.sqrt(inFeatures)
      const a = new Float32Array(config.r * inFeatures)
      for (let i = 0; i < a.length; i++) a[i] = (2 * uniform() - 1) * bound
      const module = loraModulePath(layer, target)
      pairs.set(module, { module, inFeatures, outFeatures, a, b: new Float32Array(outFeatures * config.r) })
    }
  }
  return { config, pairs }
}

/**
 * W + scale·B·A for a base weight `weight` [out, in] (a new array; the base is
 * untouched). Used to export a merged model.
 */
export const mergeLoraPair = (weight: Float32Array, pair: LoraPair, scale: number): Float32Array => {
  const r = pair.a.length / pair.inFeatures
  const merged = Float32Array.from(weight)
  for (let o = 0; o < pair.outFeatures; o++) {
    for (let k = 0; k < r; k++) {
      const coefficient = scale * pair.b[o * r + k]!
      if (coefficient === 0) continue
      const row = o * pair.inFeatures
      const aRow = k * pair.inFeatures
      for (let i = 0; i < pair.inFeatures; i++) merged[row + i] = merged[row + i]! + coefficient * pair.a[aRow + i]!
    }
  }
  return merged
}

/** The scale of an adapter (alpha/r, or alpha/√r with rsLoRA). */
export const adapterScale = (adapter: LoraAdapter): number => loraScale(adapter.config)
