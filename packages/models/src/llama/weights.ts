/**
 * Loading checkpoint tensors as float32 host tensors keyed by their Hugging
 * Face names — exactly the parameter names of the step programs. Each tensor
 * is read on its own (no whole-file buffer) and converted from F16/BF16.
 */
import { hostTensor, type HostTensor } from "@refine-af/tensor"
import { Effect, type Scope } from "effect"
import type { LlamaConfig } from "../config/llama-config.ts"
import type { ModelFolder } from "../config/model-folder.ts"
import { NonFiniteWeightsError, SafetensorsFormatError, type SafetensorsIoError } from "../safetensors/errors.ts"
import { openSharded, openSingleFile, type TensorSource } from "../safetensors/sharded.ts"
import { decoderSource } from "./checkpoint-names.ts"
import { headNames } from "./heads.ts"

/**
 * Which head weights a checkpoint holds besides the trunk: the causal-LM head
 * (`lm_head.weight` unless tied; the default), a sequence classifier's
 * `score.weight` [labels, hidden], or none.
 */
export type CheckpointHead = "lm" | { readonly score: number } | "none"

/** The checkpoint names a model of this config needs, with their shapes. */
export const expectedWeights = (c: LlamaConfig, head: CheckpointHead = "lm"): Map<string, ReadonlyArray<number>> => {
  const shapes = new Map<string, ReadonlyArray<number>>([["model.embed_tokens.weight", [c.vocabSize, c.hiddenSize]]])
  const attention = c.numHeads * c.headDim
  const keyValue = c.numKeyValueHeads * c.headDim
  for (let layer = 0; layer < c.numLayers; layer++) {
    const p = `model.layers.${layer}`
    const linear = (name: string, out: number, input: number, bias: boolean) => {
      shapes.set(`${p}.${name}.weight`, [out, input])
      if (bias) shapes.set(`${p}.${name}.bias`, [out])
    }
    if (!c.postNorms || c.sandwichNorms) shapes.set(`${p}.input_layernorm.weight`, [c.hiddenSize])
    if (c.fusedProjections) linear("self_attn.qkv_proj", attention + 2 * keyValue, c.hiddenSize, c.qkvBias)
    else {
      linear("self_attn.q_proj", attention, c.hiddenSize, c.qkvBias)
      linear("self_attn.k_proj", keyValue, c.hiddenSize, c.qkvBias)
      linear("self_attn.v_proj", keyValue, c.hiddenSize, c.qkvBias)
    }
    if (c.qkNorm !== false) {
      shapes.set(`${p}.self_attn.q_norm.weight`, [c.qkNorm === "head" ? c.headDim : attention])
      shapes.set(`${p}.self_attn.k_norm.weight`, [c.qkNorm === "head" ? c.headDim : keyValue])
    }
    linear("self_attn.o_proj", c.hiddenSize, attention, c.oBias)
    shapes.set(`${p}.post_attention_layernorm.weight`, [c.hiddenSize])
    if (c.sandwichNorms) shapes.set(`${p}.pre_feedforward_layernorm.weight`, [c.hiddenSize])
    if (c.postNorms) shapes.set(`${p}.post_feedforward_layernorm.weight`, [c.hiddenSize])
    if (c.fusedProjections) linear("mlp.gate_up_proj", 2 * c.intermediateSize, c.hiddenSize, c.mlpBias)
    else {
      linear("mlp.gate_proj", c.intermediateSize, c.hiddenSize, c.mlpBias)
      linear("mlp.up_proj", c.intermediateSize, c.hiddenSize, c.mlpBias)
    }
    linear("mlp.down_proj", c.hiddenSize, c.intermediateSize, c.mlpBias)
  }
  shapes.set("model.norm.weight", [c.hiddenSize])
  if (head === "lm" && !c.tieWordEmbeddings) shapes.set(headNames.lmHead, [c.vocabSize, c.hiddenSize])
  if (typeof head === "object") shapes.set(headNames.score, [head.score, c.hiddenSize])
  return shapes
}

/** Opens the folder's weight files (single file or sharded) with every tensor under its stored name. */
export const openCheckpointFiles = (model: ModelFolder): Effect.Effect<TensorSource, SafetensorsFormatError | SafetensorsIoError, Scope.Scope> =>
  model.weights.kind === "sharded" ? openSharded(model.weights.path) : openSingleFile(model.weights.path)

/** Opens the folder's weights as the decoder reads them: a multimodal checkpoint's text decoder under the text model's names ({@link decoderSource}). */
export const openWeights = (model: ModelFolder): Effect.Effect<TensorSource, SafetensorsFormatError | SafetensorsIoError, Scope.Scope> =>
  Effect.map(openCheckpointFiles(model), (source) => decoderSource(source, model.config))

/**
 * Fails with one message listing (up to 8 of) the weights `expected` names
 * that `source` lacks or holds at another shape, before any large read.
 */
export const checkWeights = (source: TensorSource, expected: ReadonlyMap<string, ReadonlyArray<number>>, where: string): Effect.Effect<void, SafetensorsFormatError> =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    for (const [name, shape] of expected) {
      const entry = yield* Effect.option(source.entry(name))
      if (entry._tag === "None") problems.push(`missing ${name}`)
      else if (entry.value.shape.join(",") !== shape.join(",")) problems.push(`${name} is [${entry.value.shape}] but the config implies [${shape}]`)
    }
    if (problems.length === 0) return
    return yield* Effect.fail(new SafetensorsFormatError({
      path: where,
      problem: "BadEntry",
      message: `The weights in ${where} do not fit config.json:\n  - ${problems.slice(0, 8).join("\n  - ")}${problems.length > 8 ? `\n  - … ${problems.length - 8} more` : ""}\n${source.naming === undefined ? "" : `(${source.naming})\n`}Check that config.json belongs to these weights.`
    }))
  })

/** One tensor as float32, failing with `NonFiniteWeightsError` when it holds NaN or ±Inf. */
export const readFiniteFloat32 = (source: TensorSource, name: string, where: string) =>
  Effect.flatMap(source.readFloat32(name), (values) => {
    const bad = nonFinite(values)
    return bad === undefined
      ? Effect.succeed(values)
      : Effect.fail(new NonFiniteWeightsError({
        path: where,
        name,
        count: bad.count,
        message: `${where}: tensor ${name} holds ${bad.count} non-finite value${bad.count === 1 ? "" : "s"} (first: ${bad.first} at index ${bad.index}); ` +
          "the checkpoint is damaged or was converted with an overflow (e.g. float32 → float16). Re-download or re-convert it."
      }))
  })

/**
 * Reads every weight the config needs as float32, checking names and shapes
 * first so a mismatched checkpoint fails before any large read.
 */
export const loadWeights = Effect.fnUntraced(function* (source: TensorSource, config: LlamaConfig, where: string, head: CheckpointHead = "lm") {
  const expected = expectedWeights(config, head)
  yield* checkWeights(source, expected, where)
  const weights: Record<string, HostTensor> = {}
  for (const [name, shape] of expected) weights[name] = { dtype: "float32", shape, data: yield* readFiniteFloat32(source, name, where) }
  return weights
})

/** Count and first position of NaN/±Inf values (`x - x` is NaN exactly for those), or undefined. */
export const nonFinite = (values: Float32Array): { readonly count: number; readonly index: number; readonly first: number } | undefined => {
  let count = 0
  let index = -1
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!
    if (value - value !== 0) {
      if (count === 0) index = i
      count++
    }
  }
  return count === 0 ? undefined : { count, index, first: values[index]! }
}

/** A float32 host tensor from numbers (re-exported helper for callers building feeds). */
export const float32Tensor = (shape: ReadonlyArray<number>, values: ArrayLike<number>): HostTensor => hostTensor("float32", shape, values)
