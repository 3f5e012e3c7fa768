import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { checkpointNames, endOfSequenceIds, expectedWeights, loadModelFolder, parameterCount, parseLlamaConfig, ropeFrequencies, TINY_PRESETS, tinyTensorPlan } from "../src/index.ts"
import { tinyModel } from "./support/tiny-model.ts"

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const flip = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(effect))

const minimal = { model_type: "llama", vocab_size: 100, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4 }

describe("config.json parsing", () => {
  it("fills Hugging Face defaults for a minimal llama config", async () => {
    const config = await run(parseLlamaConfig("config.json", minimal))
    expect(config).toMatchObject({ architecture: "llama", numKeyValueHeads: 4, headDim: 8, ropeTheta: 10000, rmsNormEps: 1e-6, tieWordEmbeddings: false, qkvBias: false })
    expect(config.slidingWindowPerLayer).toEqual([null, null])
    // 2 layers × (attention 4·32·32 + mlp 3·32·64 + 2 norms·32) + 2 embeddings 100·32 + final norm 32
    expect(parameterCount(config)).toBe(2 * (4096 + 6144 + 64) + 6400 + 32)
  })
  it("maps each architecture's bias and sliding-window rules", async () => {
    const qwen2 = await run(parseLlamaConfig("c", { ...minimal, model_type: "qwen2", sliding_window: 4, use_sliding_window: true, max_window_layers: 1 }))
    expect([qwen2.qkvBias, qwen2.oBias, qwen2.slidingWindowPerLayer]).toEqual([true, false, [null, 4]])
    const qwen2Off = await run(parseLlamaConfig("c", { ...minimal, model_type: "qwen2", sliding_window: 4 }))
    expect(qwen2Off.slidingWindowPerLayer).toEqual([null, null])
    const mistral = await run(parseLlamaConfig("c", { ...minimal, model_type: "mistral", sliding_window: 4096, num_key_value_heads: 2 }))
    expect([mistral.qkvBias, mistral.slidingWindowPerLayer]).toEqual([false, [4096, 4096]])
    const mistralNull = await run(parseLlamaConfig("c", { ...minimal, model_type: "mistral", sliding_window: null }))
    expect(mistralNull.slidingWindowPerLayer).toEqual([null, null])
    const biased = await run(parseLlamaConfig("c", { ...minimal, attention_bias: true, mlp_bias: true, eos_token_id: [2, 7] }))
    expect([biased.qkvBias, biased.oBias, biased.mlpBias, biased.eosTokenIds]).toEqual([true, true, true, [2, 7]])
  })
  it("names the supported architectures for an unsupported one", async () => {
    const error = await flip(parseLlamaConfig("c", { ...minimal, model_type: "gpt2" }))
    expect(error._tag).toBe("UnsupportedArchitectureError")
    expect(error.message).toContain("llama, mistral, qwen2, qwen3, olmo2, olmo3, smollm3, granite, gemma2, gemma3_text, phi3, gemma3")
    // Model types people try get a reason and what to pick instead.
    expect((await flip(parseLlamaConfig("c", { ...minimal, model_type: "gemma3n" }))).message).toContain("per-layer embeddings")
    expect((await flip(parseLlamaConfig("c", { ...minimal, model_type: "qwen2_5_vl" }))).message).toContain("the text-only Qwen2.5 models (qwen2)")
    expect((await flip(parseLlamaConfig("c", { ...minimal, model_type: "qwen3_moe" }))).message).toContain("a mixture of experts")
    expect((await flip(parseLlamaConfig("c", { ...minimal, model_type: "phi3small" }))).message).toContain("block-sparse attention")
    expect((await flip(parseLlamaConfig("c", { ...minimal, model_type: "toString" }))).message).toContain(`model_type "toString"; model-llama supports`)
  })
  it("qwen3: q/k RMSNorm always, projection biases only with attention_bias (o_proj too); mistral never has them", async () => {
    const qwen3 = await run(parseLlamaConfig("c", { ...minimal, model_type: "qwen3", head_dim: 16 }))
    expect([qwen3.qkNorm, qwen3.postNorms, qwen3.qkvBias, qwen3.oBias, qwen3.mlpBias, qwen3.headDim]).toEqual(["head", false, false, false, false, 16])
    const biased = await run(parseLlamaConfig("c", { ...minimal, model_type: "qwen3", attention_bias: true, mlp_bias: true }))
    expect([biased.qkvBias, biased.oBias, biased.mlpBias]).toEqual([true, true, false])
    for (const modelType of ["llama", "mistral", "qwen2"]) {
      const config = await run(parseLlamaConfig("c", { ...minimal, model_type: modelType }))
      expect([config.qkNorm, config.postNorms]).toEqual([false, false])
    }
    const mistral = await run(parseLlamaConfig("c", { ...minimal, model_type: "mistral", attention_bias: true }))
    expect([mistral.qkvBias, mistral.oBias]).toEqual([false, false])
    // 2 layers × (attention 4·16·32 ·4 + mlp 3·32·64 + 2 norms·32 + q/k norms 2·16) + 2 embeddings 100·32 + final norm 32
    expect(parameterCount(qwen3)).toBe(2 * (8192 + 6144 + 64 + 32) + 6400 + 32)
  })
  it("olmo2: norms after attention and MLP, q/k RMSNorm over whole projections, biases with attention_bias", async () => {
    const olmo2 = await run(parseLlamaConfig("c", { ...minimal, model_type: "olmo2", num_key_value_heads: 2 }))
    expect([olmo2.qkNorm, olmo2.postNorms, olmo2.qkvBias, olmo2.oBias, olmo2.mlpBias]).toEqual(["projection", true, false, false, false])
    const biased = await run(parseLlamaConfig("c", { ...minimal, model_type: "olmo2", attention_bias: true }))
    expect([biased.qkvBias, biased.oBias]).toEqual([true, true])
    // 2 layers × (attention 8·32·(2·4 + 2·2) + mlp 3·32·64 + 2 norms·32 + q/k norms (4 + 2)·8) + 2 embeddings 100·32 + final norm 32
    expect(parameterCount(olmo2)).toBe(2 * (3072 + 6144 + 64 + 48) + 6400 + 32)
  })
  it("olmo3: olmo2's layer with three sliding layers of every four (or layer_types), window 4096 by default; both OLMos' norm eps defaults to 1e-5", async () => {
    const olmo3 = await run(parseLlamaConfig("c", { ...minimal, model_type: "olmo3", num_hidden_layers: 8 }))
    expect(olmo3).toMatchObject({ qkNorm: "projection", postNorms: true, sandwichNorms: false, rmsNormEps: 1e-5, localRope: null })
    expect(olmo3.slidingWindowPerLayer).toEqual([4096, 4096, 4096, null, 4096, 4096, 4096, null])
    const kinds = await run(parseLlamaConfig("c", { ...minimal, model_type: "olmo3", sliding_window: 16, layer_types: ["full_attention", "sliding_attention"] }))
    expect(kinds.slidingWindowPerLayer).toEqual([null, 16])
    expect((await run(parseLlamaConfig("c", { ...minimal, model_type: "olmo2" }))).rmsNormEps).toBe(1e-5)
    expect((await run(parseLlamaConfig("c", minimal))).rmsNormEps).toBe(1e-6)
  })
  it("smollm3: layers without rotary from no_rope_layers (1 = rotary) or every no_rope_layer_interval-th; theta 2e6 and tied embeddings by default; its NoPE layers slide", async () => {
    const four = { ...minimal, num_hidden_layers: 4, model_type: "smollm3" }
    const byInterval = await run(parseLlamaConfig("c", four))
    expect([byInterval.nopeLayers, byInterval.ropeTheta, byInterval.tieWordEmbeddings, byInterval.slidingWindowPerLayer]).toEqual([[3], 2_000_000, true, [null, null, null, null]])
    expect((await run(parseLlamaConfig("c", { ...four, no_rope_layer_interval: 2 }))).nopeLayers).toEqual([1, 3])
    const listed = await run(parseLlamaConfig("c", { ...four, no_rope_layers: [0, 1, 1, 0, 1], rope_theta: 5e6, tie_word_embeddings: false, use_sliding_window: true, sliding_window: 16 }))
    expect([listed.nopeLayers, listed.ropeTheta, listed.tieWordEmbeddings, listed.slidingWindowPerLayer]).toEqual([[0, 3], 5e6, false, [16, null, null, 16]])
    // layer_types, where given, say which layers slide.
    expect((await run(parseLlamaConfig("c", { ...four, use_sliding_window: true, sliding_window: 16, layer_types: ["sliding_attention", "full_attention", "full_attention", "full_attention"] }))).slidingWindowPerLayer).toEqual([16, null, null, null])
    const wrong = await flip(parseLlamaConfig("c", { ...four, no_rope_layers: [1, 0] }))
    expect(wrong.message).toContain(`"no_rope_layers" is [1,0], expected at least 4 entries (num_hidden_layers), each 1 (rotary) or 0 (none)`)
    for (const modelType of ["llama", "qwen3", "olmo2"]) {
      const config = await run(parseLlamaConfig("c", { ...minimal, model_type: modelType, no_rope_layers: [0, 0] }))
      expect([config.nopeLayers, config.ropeTheta, config.tieWordEmbeddings]).toEqual([[], 10000, false])
    }
  })
  it("granite: its four multipliers (GraniteConfig's defaults 1), biases as llama; null for the others", async () => {
    const granite = await run(parseLlamaConfig("c", { ...minimal, model_type: "granite", embedding_multiplier: 12, attention_multiplier: 0.0078125, residual_multiplier: 0.22, logits_scaling: 16, attention_bias: true, mlp_bias: true }))
    expect(granite.multipliers).toEqual({ embedding: 12, attention: 0.0078125, residual: 0.22, logits: 16 })
    expect([granite.qkvBias, granite.oBias, granite.mlpBias]).toEqual([true, true, true])
    expect((await run(parseLlamaConfig("c", { ...minimal, model_type: "granite" }))).multipliers).toEqual({ embedding: 1, attention: 1, residual: 1, logits: 1 })
    expect((await run(parseLlamaConfig("c", { ...minimal, embedding_multiplier: 12 }))).multipliers).toBeNull()
    const wrong = await flip(parseLlamaConfig("c", { ...minimal, model_type: "granite", logits_scaling: 0 }))
    expect(wrong.message).toContain(`"logits_scaling" is 0, expected a positive number`)
  })
  it("gemma3_text: norms before and after both branches scaling by 1 + weight, tanh GELU, √hidden and query_pre_attn_scalar scales, a local rotary table for its sliding layers", async () => {
    const gemma = { ...minimal, model_type: "gemma3_text", num_hidden_layers: 6, head_dim: 16, query_pre_attn_scalar: 64, sliding_window: 512, rope_theta: 1e6, rope_scaling: { rope_type: "linear", factor: 8 }, rope_local_base_freq: 10000 }
    const v4 = await run(parseLlamaConfig("c", gemma))
    expect(v4).toMatchObject({ qkNorm: "head", postNorms: true, sandwichNorms: true, normWeightOffset: 1, activation: "gelu_tanh", tieWordEmbeddings: true, ropeTheta: 1e6, ropeScaling: { type: "linear", factor: 8 } })
    expect(v4.localRope).toEqual({ theta: 10000, scaling: { type: "default" } })
    expect(v4.multipliers).toEqual({ embedding: Math.fround(Math.sqrt(32)), attention: 1 / 8, residual: 1, logits: 1 })
    // Gemma3TextConfig's sliding_window_pattern (default 6): five sliding layers, then a full one.
    expect(v4.slidingWindowPerLayer).toEqual([512, 512, 512, 512, 512, null])
    expect((await run(parseLlamaConfig("c", { ...gemma, sliding_window_pattern: 2 }))).slidingWindowPerLayer).toEqual([512, null, 512, null, 512, null])
    // transformers 5's layout: layer_types and one rope_parameters set per attention kind.
    const { rope_theta: _theta, rope_scaling: _scaling, rope_local_base_freq: _local, ...rest } = gemma
    const layerTypes = [...new Array<string>(5).fill("sliding_attention"), "full_attention"]
    const v5 = await run(parseLlamaConfig("c", { ...rest, layer_types: layerTypes, rope_parameters: { full_attention: { rope_type: "linear", factor: 8, rope_theta: 1e6 }, sliding_attention: { rope_type: "default", rope_theta: 10000 } } }))
    expect(v5).toEqual(v4)
    const noLocal = await flip(parseLlamaConfig("c", { ...rest, rope_parameters: { full_attention: { rope_type: "default", rope_theta: 1e6 } } }))
    expect(noLocal.message).toContain(`"rope_parameters" has sets for full_attention but none for sliding_attention`)
    // Gemma3TextConfig's defaults: head_dim 256 (not hidden_size / heads), window 4096, theta 1e6 and 1e4, query scale 256^-1/2.
    const defaults = await run(parseLlamaConfig("c", { ...minimal, model_type: "gemma3_text" }))
    expect([defaults.headDim, defaults.slidingWindowPerLayer, defaults.ropeTheta, defaults.localRope?.theta, defaults.multipliers?.attention]).toEqual([256, [4096, 4096], 1e6, 10000, 1 / 16])
    // Soft caps where a config sets them (Gemma3TextConfig's default none); embedding gemma's bidirectional attention is refused by name.
    expect([v4.attentionSoftcap, v4.logitSoftcap]).toEqual([null, null])
    const capped = await run(parseLlamaConfig("c", { ...gemma, final_logit_softcapping: 30, attn_logit_softcapping: 50 }))
    expect([capped.attentionSoftcap, capped.logitSoftcap]).toEqual([50, 30])
    const bidirectional = await flip(parseLlamaConfig("c", { ...gemma, use_bidirectional_attention: true }))
    expect(bidirectional.message).toContain("use_bidirectional_attention")
    const activation = await flip(parseLlamaConfig("c", { ...gemma, hidden_activation: "relu2" }))
    expect(activation.message).toContain(`"hidden_activation" is "relu2"`)
    // The other families take hidden_act (transformers' ACT2FN): GELU too; gemma3's local table is theirs alone.
    expect((await run(parseLlamaConfig("c", { ...minimal, hidden_act: "gelu" }))).activation).toBe("gelu")
    expect((await run(parseLlamaConfig("c", minimal))).localRope).toBeNull()
  })
  it("gemma3 (multimodal): the text decoder from a sparse text_config over Gemma3TextConfig's defaults, the top level's token ids first", async () => {
    // gemma-3-4b-it's config.json (transformers 4.50), vision_config abridged.
    const hub4b = {
      architectures: ["Gemma3ForConditionalGeneration"],
      boi_token_index: 255999,
      eoi_token_index: 256000,
      eos_token_id: [1, 106],
      image_token_index: 262144,
      initializer_range: 0.02,
      mm_tokens_per_image: 256,
      model_type: "gemma3",
      text_config: { hidden_size: 2560, intermediate_size: 10240, model_type: "gemma3_text", num_hidden_layers: 34, rope_scaling: { factor: 8.0, rope_type: "linear" }, sliding_window: 1024 },
      torch_dtype: "bfloat16",
      vision_config: { hidden_size: 1152, image_size: 896, intermediate_size: 4304, model_type: "siglip_vision_model", num_attention_heads: 16, num_hidden_layers: 27, patch_size: 14, vision_use_head: false }
    }
    const config = await run(parseLlamaConfig("c", hub4b))
    expect(config).toMatchObject({
      architecture: "gemma3_text",
      multimodal: "gemma3",
      vocabSize: 262208,
      hiddenSize: 2560,
      intermediateSize: 10240,
      numLayers: 34,
      numHeads: 8,
      numKeyValueHeads: 4,
      headDim: 256,
      maxPositionEmbeddings: 131072,
      rmsNormEps: 1e-6,
      ropeTheta: 1e6,
      ropeScaling: { type: "linear", factor: 8 },
      localRope: { theta: 10000, scaling: { type: "default" } },
      tieWordEmbeddings: true,
      activation: "gelu_tanh",
      attentionSoftcap: null,
      logitSoftcap: null,
      bosTokenId: 2,
      eosTokenIds: [1, 106],
      padTokenId: 0
    })
    expect(config.multipliers?.attention).toBe(1 / 16)
    // Five sliding layers, then a full one (sliding_window_pattern's default 6): 34 layers end on four sliding ones.
    expect(config.slidingWindowPerLayer).toEqual(Array.from({ length: 34 }, (_, layer) => ((layer + 1) % 6 === 0 ? null : 1024)))
    // The decoder of the multimodal model is the text-only model of the same fields.
    const { multimodal: _m, ...decoder } = config
    const { multimodal: _t, ...textOnly } = await run(parseLlamaConfig("c", { ...hub4b.text_config, eos_token_id: [1, 106] }))
    expect(decoder).toEqual(textOnly)
    // gemma-3-27b: its own head size and query scale.
    const big = await run(parseLlamaConfig("c", { ...hub4b, text_config: { head_dim: 128, hidden_size: 5376, intermediate_size: 21504, model_type: "gemma3_text", num_attention_heads: 32, num_hidden_layers: 62, num_key_value_heads: 16, query_pre_attn_scalar: 168, rope_scaling: { factor: 8.0, rope_type: "linear" }, sliding_window: 1024 } }))
    expect([big.headDim, big.numHeads, big.numKeyValueHeads, big.multipliers?.attention]).toEqual([128, 32, 16, 168 ** -0.5])
    // No text_config: Gemma3Config's default text model; the token ids of the text config where the top level has none.
    const bare = await run(parseLlamaConfig("c", { model_type: "gemma3" }))
    expect([bare.hiddenSize, bare.numLayers, bare.intermediateSize, bare.eosTokenIds, bare.slidingWindowPerLayer[0]]).toEqual([2304, 26, 9216, [1], 4096])
    const wrongText = await flip(parseLlamaConfig("c", { ...hub4b, text_config: { ...hub4b.text_config, model_type: "gemma2" } }))
    expect(wrongText.message).toContain(`"text_config" has model_type "gemma2", expected "gemma3_text"`)
    const badField = await flip(parseLlamaConfig("c", { ...hub4b, text_config: { ...hub4b.text_config, num_hidden_layers: -1 } }))
    expect(badField.message).toContain("gemma3 config: its text_config, a gemma3_text config")
    expect(badField.message).toContain(`"num_hidden_layers" is -1`)
  })
  it("mistral3 (multimodal, Mistral Small 3.1 / 3.2): the mistral decoder of text_config, MistralConfig's defaults for what it leaves out", async () => {
    // Mistral-Small-3.1-24B-Instruct-2503's config.json, vision_config abridged.
    const hub = {
      architectures: ["Mistral3ForConditionalGeneration"],
      image_token_index: 10,
      model_type: "mistral3",
      multimodal_projector_bias: false,
      projector_hidden_act: "gelu",
      spatial_merge_size: 2,
      text_config: { attention_dropout: 0.0, head_dim: 128, hidden_act: "silu", hidden_size: 5120, initializer_range: 0.02, intermediate_size: 32768, max_position_embeddings: 131072, model_type: "mistral", num_attention_heads: 32, num_hidden_layers: 40, num_key_value_heads: 8, rms_norm_eps: 1e-05, rope_theta: 1000000000.0, sliding_window: null, use_cache: true, vocab_size: 131072 },
      torch_dtype: "bfloat16",
      vision_config: { head_dim: 64, hidden_act: "silu", hidden_size: 1024, image_size: 1540, intermediate_size: 4096, model_type: "pixtral", num_attention_heads: 16, num_hidden_layers: 24, patch_size: 14, rope_theta: 10000.0 },
      vision_feature_layer: -1
    }
    const config = await run(parseLlamaConfig("c", hub))
    expect(config).toMatchObject({ architecture: "mistral", multimodal: "mistral3", vocabSize: 131072, hiddenSize: 5120, numLayers: 40, numHeads: 32, numKeyValueHeads: 8, headDim: 128, ropeTheta: 1e9, rmsNormEps: 1e-5, tieWordEmbeddings: false, bosTokenId: 1, eosTokenIds: [2] })
    expect(new Set(config.slidingWindowPerLayer)).toEqual(new Set([null]))
    // Left out, MistralConfig's 4096-token window applies (a plain mistral config.json is read as written).
    const { sliding_window: _w, ...noWindow } = hub.text_config
    expect((await run(parseLlamaConfig("c", { ...hub, text_config: noWindow }))).slidingWindowPerLayer[0]).toBe(4096)
    const llava = await flip(parseLlamaConfig("c", { ...hub, text_config: { ...hub.text_config, model_type: "llama" } }))
    expect(llava.message).toContain(`"text_config" has model_type "llama", expected "mistral"`)
  })
  it("phi3: fused projections, partly rotating heads, longrope (its older names too), every layer sliding, Phi3Config's defaults", async () => {
    const short = [1, 1.5, 2, 3]
    const long = [2, 4, 8, 16]
    const phi = { ...minimal, model_type: "phi3", num_hidden_layers: 2, partial_rotary_factor: 0.75, max_position_embeddings: 131072, original_max_position_embeddings: 4096, sliding_window: 2047, rope_scaling: { type: "longrope", short_factor: [...short, 1, 1], long_factor: [...long, 1, 1] } }
    // head_dim 32 / 4 = 8 → int(8 · 0.75) = 6 rotating dimensions → 3 factors.
    const error = await flip(parseLlamaConfig("c", phi))
    expect(error.message).toContain(`rope scaling "short_factor" has 6 entries; the rotary part of a head (6) needs 3`)
    const fitting = { ...phi, rope_scaling: { type: "longrope", short_factor: short.slice(0, 3), long_factor: long.slice(0, 3) } }
    const config = await run(parseLlamaConfig("c", fitting))
    expect(config).toMatchObject({ fusedProjections: true, partialRotaryFactor: 0.75, rmsNormEps: 1e-5, tieWordEmbeddings: false, qkvBias: false, oBias: false, mlpBias: false })
    expect(config.slidingWindowPerLayer).toEqual([2047, 2047])
    // A window longer than any sequence (Phi-3.5-mini's and Phi-4-mini's 262144 over 131072 positions) never binds.
    expect((await run(parseLlamaConfig("c", { ...fitting, sliding_window: 262144 }))).slidingWindowPerLayer).toEqual([null, null])
    expect((await run(parseLlamaConfig("c", { ...fitting, sliding_window: 131071 }))).slidingWindowPerLayer).toEqual([131071, 131071])
    // Phi-3's attention factor: √(1 + ln(131072 / 4096) / ln 4096).
    const attentionFactor = Math.sqrt(1 + Math.log(32) / Math.log(4096))
    expect(config.ropeScaling).toEqual({ type: "longrope", shortFactor: short.slice(0, 3), longFactor: long.slice(0, 3), originalMaxPositionEmbeddings: 4096, attentionFactor })
    // The factors divide the base frequencies; the long ones serve sequences past the original context.
    const frequencies = ropeFrequencies(config.ropeScaling, 10000, 6, config.maxPositionEmbeddings, 4096)
    const base = [1, 10000 ** (-2 / 6), 10000 ** (-4 / 6)]
    expect(Array.from(frequencies.inverseFrequencies)).toEqual(base.map((f, i) => f / short[i]!))
    expect(Array.from(frequencies.long!.inverseFrequencies)).toEqual(base.map((f, i) => f / long[i]!))
    expect([frequencies.attentionScaling, frequencies.long!.beyond]).toEqual([attentionFactor, 4096])
    // Older names ("su", and "yarn" in Phi-3 configs) are longrope; transformers 5's rope_parameters carries the same.
    for (const type of ["su", "yarn"]) expect((await run(parseLlamaConfig("c", { ...fitting, rope_scaling: { ...fitting.rope_scaling, type } }))).ropeScaling).toEqual(config.ropeScaling)
    const { rope_scaling: _scaling, partial_rotary_factor: _partial, original_max_position_embeddings: _original, ...rest } = fitting
    const v5 = await run(parseLlamaConfig("c", { ...rest, rope_parameters: { rope_type: "longrope", rope_theta: 10000, partial_rotary_factor: 0.75, original_max_position_embeddings: 4096, short_factor: short.slice(0, 3), long_factor: long.slice(0, 3) } }))
    expect(v5).toEqual(config)
    // Phi3Config's defaults: 4096 positions, no window, ε 1e-5; no longrope factor without max / original > 1.
    const plain = await run(parseLlamaConfig("c", { ...minimal, model_type: "phi3" }))
    expect([plain.maxPositionEmbeddings, plain.slidingWindowPerLayer, plain.rmsNormEps, plain.partialRotaryFactor, plain.ropeScaling]).toEqual([4096, [null, null], 1e-5, 1, { type: "default" }])
    // Only phi3 rotates part of a head; the rotating part must be even.
    expect((await flip(parseLlamaConfig("c", { ...minimal, partial_rotary_factor: 0.5 }))).message).toContain(`"partial_rotary_factor" 0.5 is not supported for llama`)
    expect((await flip(parseLlamaConfig("c", { ...minimal, model_type: "phi3", partial_rotary_factor: 0.375 }))).message).toContain(`"partial_rotary_factor" is 0.375, expected a number in (0, 1] that rotates an even, non-zero part`)
  })
  it("gemma2: the Gemma norms, GELU and scales, soft caps 50 / 30 by default (null turns one off), even layers sliding, one rotary table", async () => {
    const gemma2 = { ...minimal, model_type: "gemma2", num_hidden_layers: 4, head_dim: 16, query_pre_attn_scalar: 16, sliding_window: 4096 }
    const config = await run(parseLlamaConfig("c", gemma2))
    expect(config).toMatchObject({ qkNorm: false, postNorms: true, sandwichNorms: true, normWeightOffset: 1, activation: "gelu_tanh", tieWordEmbeddings: true, ropeTheta: 10000, localRope: null, attentionSoftcap: 50, logitSoftcap: 30 })
    expect(config.slidingWindowPerLayer).toEqual([4096, null, 4096, null])
    expect(config.multipliers).toEqual({ embedding: Math.fround(Math.sqrt(32)), attention: 1 / 4, residual: 1, logits: 1 })
    const uncapped = await run(parseLlamaConfig("c", { ...gemma2, attn_logit_softcapping: null, final_logit_softcapping: null }))
    expect([uncapped.attentionSoftcap, uncapped.logitSoftcap]).toEqual([null, null])
    const bad = await flip(parseLlamaConfig("c", { ...gemma2, final_logit_softcapping: -30 }))
    expect(bad.message).toContain(`"final_logit_softcapping" is -30, expected a positive number`)
    // layer_types wins over the even-layer rule.
    const kinds = ["full_attention", "sliding_attention", "full_attention", "sliding_attention"]
    expect((await run(parseLlamaConfig("c", { ...gemma2, layer_types: kinds }))).slidingWindowPerLayer).toEqual([null, 4096, null, 4096])
    // The caps are the Gemmas' alone.
    expect((await run(parseLlamaConfig("c", { ...minimal, final_logit_softcapping: 30 }))).logitSoftcap).toBeNull()
  })
  it("transformers 5's layer_types say which layers slide, where use_sliding_window is on (qwen2, qwen3)", async () => {
    const qwen = { ...minimal, sliding_window: 4, max_window_layers: 1, layer_types: ["sliding_attention", "full_attention"] }
    for (const modelType of ["qwen2", "qwen3"]) {
      // layer_types wins over max_window_layers (which alone would slide layer 1, not 0).
      expect((await run(parseLlamaConfig("c", { ...qwen, model_type: modelType, use_sliding_window: true }))).slidingWindowPerLayer).toEqual([4, null])
      expect((await run(parseLlamaConfig("c", { ...qwen, model_type: modelType }))).slidingWindowPerLayer).toEqual([null, null])
    }
    expect((await run(parseLlamaConfig("c", { ...qwen, model_type: "llama", use_sliding_window: true }))).slidingWindowPerLayer).toEqual([null, null])
    const wrong = await flip(parseLlamaConfig("c", { ...qwen, model_type: "qwen3", layer_types: ["full_attention"] }))
    expect(wrong.message).toContain(`"layer_types" is ["full_attention"], expected 2 entries (num_hidden_layers)`)
    const unknown = await flip(parseLlamaConfig("c", { ...qwen, model_type: "qwen3", layer_types: ["full_attention", "chunked_attention"] }))
    expect(unknown.message).toContain("each \"full_attention\" or \"sliding_attention\"")
  })
  it("transformers 5's rope_parameters (theta inside) reads as transformers 4's rope_theta + rope_scaling", async () => {
    const scaling = { rope_type: "llama3", factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 }
    const v4 = await run(parseLlamaConfig("c", { ...minimal, rope_theta: 500000, rope_scaling: scaling }))
    const v5 = await run(parseLlamaConfig("c", { ...minimal, rope_parameters: { ...scaling, rope_theta: 500000 } }))
    expect(v5.ropeTheta).toBe(500000)
    expect(v5.ropeScaling).toEqual({ type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 })
    expect(v5).toEqual(v4)
    // Before this was read, a transformers 5 config silently ran at theta 10000 with no scaling.
    expect((await run(parseLlamaConfig("c", { ...minimal, rope_parameters: { rope_type: "default", rope_theta: 1e6 } }))).ropeTheta).toBe(1e6)
    // Theta outside the object (a config written half-way) still counts.
    expect((await run(parseLlamaConfig("c", { ...minimal, rope_theta: 1e6, rope_parameters: { rope_type: "default" } }))).ropeTheta).toBe(1e6)
    // One set per attention kind: fine when they agree, refused when they differ (one rotary table here).
    const perKind = await run(parseLlamaConfig("c", { ...minimal, rope_parameters: { full_attention: { rope_type: "default", rope_theta: 1e6 }, sliding_attention: { rope_type: "default", rope_theta: 1e6 } } }))
    expect(perKind.ropeTheta).toBe(1e6)
    const differing = await flip(parseLlamaConfig("c", { ...minimal, rope_parameters: { full_attention: { rope_type: "default", rope_theta: 1e6 }, sliding_attention: { rope_type: "default", rope_theta: 1e4 } } }))
    expect(differing.message).toContain(`"rope_parameters" differs between attention kinds (full_attention, sliding_attention)`)
    const badTheta = await flip(parseLlamaConfig("c", { ...minimal, rope_parameters: { rope_type: "default", rope_theta: -1 } }))
    expect(badTheta.message).toContain(`rope_parameters: "rope_theta" is -1, expected a positive number`)
    const badType = await flip(parseLlamaConfig("c", { ...minimal, rope_parameters: { rope_type: "su2", rope_theta: 1e4 } }))
    expect(badType.message).toContain(`"rope_parameters" type "su2" is not supported`)
    const noFactors = await flip(parseLlamaConfig("c", { ...minimal, rope_parameters: { rope_type: "longrope", rope_theta: 1e4 } }))
    expect(noFactors.message).toContain(`rope_parameters: longrope's "short_factor" is undefined, expected a list of positive numbers`)
    const notObject = await flip(parseLlamaConfig("c", { ...minimal, rope_parameters: "default" }))
    expect(notObject.message).toContain(`"rope_parameters" is "default", expected an object`)
  })
  it("every tiny preset: the tiny-model writer's tensors are the ones loading expects, and parameterCount counts them", async () => {
    for (const [name, preset] of Object.entries(TINY_PRESETS)) {
      const config = await run(parseLlamaConfig(name, preset))
      const plan = new Map(tinyTensorPlan(preset).map((t) => [t.name, [...t.shape]]))
      // The decoder's tensors (all of them but a multimodal model's image side) under the names loading reads.
      const { decoder, outside } = checkpointNames([...plan.keys()], config)
      const decoderShapes = new Map([...decoder].map(([inner, stored]) => [inner, plan.get(stored)!]))
      expect(decoderShapes).toEqual(new Map([...expectedWeights(config)].map(([n, shape]) => [n, [...shape]])))
      expect(outside.length > 0).toBe(name === "gemma3" || name === "mistral3")
      expect(parameterCount(config)).toBe([...decoderShapes.values()].reduce((total, shape) => total + shape.reduce((a, b) => a * b, 1), 0))
    }
  })
  it("reports every invalid field at once", async () => {
    const error = await flip(parseLlamaConfig("c", { model_type: "llama", hidden_size: -1, num_attention_heads: 4, num_key_value_heads: 3, hidden_act: "relu2", rope_scaling: { type: "longrope" } }))
    expect(error._tag).toBe("InvalidConfigError")
    const problems = error._tag === "InvalidConfigError" ? error.problems.join("\n") : ""
    for (const field of ["hidden_size", "vocab_size", "intermediate_size", "num_hidden_layers", "hidden_act", "num_key_value_heads", "longrope"]) expect(problems).toContain(field)
  })
  it("a hidden_size that is not a multiple of the heads is a config problem without head_dim, and fine with one", async () => {
    const error = await flip(parseLlamaConfig("c", { ...minimal, hidden_size: 66 }))
    expect(error._tag).toBe("InvalidConfigError")
    expect(error.message).toContain("hidden_size (66) must be a multiple of num_attention_heads (4)")
    const explicit = await run(parseLlamaConfig("c", { ...minimal, hidden_size: 66, head_dim: 16 }))
    expect(explicit.headDim).toBe(16)
  })
})

describe("rope scaling", () => {
  const base = 10000
  const dim = 16
  const plain = ropeFrequencies({ type: "default" }, base, dim, 2048, 10).inverseFrequencies
  it("default frequencies are base^(-2i/d)", () => {
    expect(plain[0]).toBe(1)
    expect(plain[1]).toBeCloseTo(10000 ** (-2 / 16), 15)
  })
  it("linear scaling divides every frequency by the factor", () => {
    const linear = ropeFrequencies({ type: "linear", factor: 4 }, base, dim, 2048, 10).inverseFrequencies
    linear.forEach((f, i) => expect(f).toBeCloseTo(plain[i]! / 4, 15))
  })
  it("llama3 keeps high frequencies, divides low ones and blends the middle band", () => {
    const scaling = { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } as const
    const scaled = ropeFrequencies(scaling, base, dim, 2048, 10).inverseFrequencies
    plain.forEach((f, i) => {
      const wavelength = (2 * Math.PI) / f
      if (wavelength < 16) expect(scaled[i]).toBe(f)
      else if (wavelength > 64) expect(scaled[i]).toBeCloseTo(f / 8, 15)
      else expect(scaled[i]! < f && scaled[i]! > f / 8).toBe(true)
    })
  })
  it("dynamic scaling only changes frequencies beyond the trained length", () => {
    const short = ropeFrequencies({ type: "dynamic", factor: 2 }, base, dim, 64, 32).inverseFrequencies
    const long = ropeFrequencies({ type: "dynamic", factor: 2 }, base, dim, 64, 128).inverseFrequencies
    short.forEach((f, i) => expect(f).toBeCloseTo(plain[i]!, 15))
    expect(long[1]!).toBeLessThan(plain[1]!)
  })
  it("yarn interpolates low frequencies, keeps high ones and scales attention", () => {
    const yarn = ropeFrequencies({ type: "yarn", factor: 4, originalMaxPositionEmbeddings: 64, betaFast: 32, betaSlow: 1, attentionFactor: undefined, mscale: undefined, mscaleAllDim: undefined, truncate: true }, base, dim, 256, 10)
    expect(yarn.inverseFrequencies[0]).toBe(plain[0])
    expect(yarn.inverseFrequencies[7]).toBeCloseTo(plain[7]! / 4, 15)
    expect(yarn.attentionScaling).toBeCloseTo(0.1 * Math.log(4) + 1, 15)
  })
})

describe("model folders", () => {
  it("loads a tiny model folder with its generation config", async () => {
    const folder = await tinyModel("qwen2")
    const model = await run(loadModelFolder(folder))
    expect(model.config).toMatchObject({ architecture: "qwen2", vocabSize: 151669, hiddenSize: 64, tieWordEmbeddings: true, qkvBias: true })
    expect(model.weights.kind).toBe("single")
    expect(endOfSequenceIds(model)).toEqual([151645, 151643])
  })
  it("lists what is missing and what was found", async () => {
    const folder = mkdtempSync(nodePath.join(tmpdir(), "incomplete-model-"))
    writeFileSync(nodePath.join(folder, "config.json"), JSON.stringify(minimal))
    writeFileSync(nodePath.join(folder, "pytorch_model.bin"), "")
    const error = await flip(loadModelFolder(folder))
    expect(error._tag).toBe("ModelFolderError")
    if (error._tag !== "ModelFolderError") return
    expect(error.missing).toEqual(["model.safetensors (or model.safetensors.index.json)", "tokenizer.json"])
    expect(error.found).toEqual(["config.json", "pytorch_model.bin"])
    expect(error.message).toContain("convert them to safetensors")
  })
  it("a folder that does not exist is a ModelFolderError", async () => {
    expect((await flip(loadModelFolder("/nonexistent/model"))).
      _tag).toBe("ModelFolderError")
  })
})
