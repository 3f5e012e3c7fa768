/**
 * The rotary settings of a Llama-family `config.json`, in either layout: transformers 4's
 * `rope_theta` / `rope_scaling`, transformers 5's `rope_parameters` (one set, or one per attention
 * kind), and gemma3's second, unscaled table for its sliding layers. Problems are collected in the
 * caller's {@link FieldReader}.
 */
import { FieldReader, isJsonObject } from "./fields.ts"
import { SUPPORTED_ROPE_TYPES, type RopeScaling } from "./rope.ts"

/** A list of positive numbers (longrope's factors), or a problem. */
const positiveNumbers = (reader: FieldReader, raw: Record<string, unknown>, key: string): Array<number> => {
  const value = raw[key]
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number" && v > 0)) return value as Array<number>
  reader.problems.push(`longrope's "${key}" is ${JSON.stringify(value)}, expected a list of positive numbers (one per rotary frequency)`)
  return []
}

/**
 * longrope (transformers' `_compute_longrope_parameters`): the original context is the config's
 * `original_max_position_embeddings` (Phi3Config: top level, default 4096; transformers 5 may
 * keep it in the rope set); cos and sin scale by `attention_factor`, by default
 * √(1 + ln s / ln original) with s = `factor`, or max_position_embeddings / original where the
 * set has none (what Phi-3's configs rely on), and 1 when s ≤ 1.
 */
const longRope = (raw: Record<string, unknown>, rope: FieldReader, fields: FieldReader, maxPositionEmbeddings: number): RopeScaling => {
  const original = rope.has("original_max_position_embeddings")
    ? rope.positiveInt("original_max_position_embeddings")
    : fields.positiveInt("original_max_position_embeddings", 4096)
  const factor = fields.has("original_max_position_embeddings") || !rope.has("factor") ? maxPositionEmbeddings / original : rope.positiveNumber("factor")
  return {
    type: "longrope",
    shortFactor: positiveNumbers(rope, raw, "short_factor"),
    longFactor: positiveNumbers(rope, raw, "long_factor"),
    originalMaxPositionEmbeddings: original,
    attentionFactor: rope.optionalNumber("attention_factor") ?? (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original)))
  }
}

const parseRopeScaling = (raw: unknown, fields: FieldReader, maxPositionEmbeddings: number, key = "rope_scaling", modelType?: string): RopeScaling => {
  if (raw === undefined || raw === null) return { type: "default" }
  if (!isJsonObject(raw)) {
    fields.problems.push(`"${key}" is ${JSON.stringify(raw)}, expected an object or null`)
    return { type: "default" }
  }
  const named = raw.rope_type ?? raw.type
  // Phi3Config reads its configs' older "su" and "yarn" as longrope.
  const type = modelType === "phi3" && named === "yarn" ? "longrope" : named
  const rope = new FieldReader(raw)
  let scaling: RopeScaling
  switch (type) {
    case "default":
      scaling = { type: "default" }
      break
    case "linear":
    case "dynamic":
      scaling = { type, factor: rope.positiveNumber("factor") }
      break
    case "llama3":
      scaling = {
        type,
        factor: rope.positiveNumber("factor"),
        lowFreqFactor: rope.positiveNumber("low_freq_factor"),
        highFreqFactor: rope.positiveNumber("high_freq_factor"),
        originalMaxPositionEmbeddings: rope.positiveInt("original_max_position_embeddings")
      }
      break
    case "yarn":
      scaling = {
        type,
        factor: rope.positiveNumber("factor"),
        originalMaxPositionEmbeddings: rope.positiveInt("original_max_position_embeddings", maxPositionEmbeddings),
        betaFast: rope.positiveNumber("beta_fast", 32),
        betaSlow: rope.positiveNumber("beta_slow", 1),
        attentionFactor: rope.optionalNumber("attention_factor"),
        mscale: rope.optionalNumber("mscale"),
        mscaleAllDim: rope.optionalNumber("mscale_all_dim"),
        truncate: rope.bool("truncate", true)
      }
      break
    case "longrope":
    case "su": {
      scaling = longRope(raw, rope, fields, maxPositionEmbeddings)
      break
    }
    default:
      fields.problems.push(`"${key}" type ${JSON.stringify(type)} is not supported (supported: ${SUPPORTED_ROPE_TYPES.join(", ")})`)
      return { type: "default" }
  }
  fields.problems.push(...rope.problems.map((p) => `${key}: ${p}`))
  return scaling
}

/** The attention kinds transformers 5's `layer_types` and per-kind `rope_parameters` name. */
export type AttentionKind = "full_attention" | "sliding_attention"

/** One rotary setting: the base and its scaling. */
export interface RopeSetting {
  readonly theta: number
  readonly scaling: RopeScaling
}

/** transformers 5's per-attention-kind `rope_parameters` sets present in the config (empty for one set, or transformers 4). */
export const ropeKinds = (json: Record<string, unknown>): Array<AttentionKind> => {
  const raw = json.rope_parameters
  return isJsonObject(raw) ? (["full_attention", "sliding_attention"] as const).filter((kind) => isJsonObject(raw[kind])) : []
}

/**
 * The rope settings from either layout: transformers 5 writes `rope_parameters`
 * (type, scaling fields and `rope_theta` in one object; per attention kind for
 * models whose kinds differ), transformers 4 `rope_theta` and `rope_scaling`.
 * With `kind`, that kind's set is read; without, the sets must agree (one rotary
 * table for every layer). `fallbackTheta` is the base where the set has no `rope_theta`.
 */
export const parseRope = (json: Record<string, unknown>, fields: FieldReader, maxPositionEmbeddings: number, fallbackTheta: () => number, modelType: string, kind?: AttentionKind): RopeSetting => {
  const raw = json.rope_parameters
  if (raw === undefined || raw === null) {
    return { theta: fallbackTheta(), scaling: parseRopeScaling(json.rope_scaling, fields, maxPositionEmbeddings, "rope_scaling", modelType) }
  }
  if (!isJsonObject(raw)) {
    fields.problems.push(`"rope_parameters" is ${JSON.stringify(raw)}, expected an object`)
    return { theta: 10000, scaling: { type: "default" } }
  }
  let parameters: Record<string, unknown> = raw
  const perKind = ropeKinds(json)
  let key = "rope_parameters"
  if (perKind.length > 0 && kind !== undefined) {
    key = `rope_parameters.${kind}`
    if (!perKind.includes(kind)) {
      fields.problems.push(`"rope_parameters" has sets for ${perKind.join(", ")} but none for ${kind}, which this model's layers need`)
      return { theta: 10000, scaling: { type: "default" } }
    }
    parameters = raw[kind] as Record<string, unknown>
  } else if (perKind.length > 0) {
    // One set per attention kind: usable when the kinds agree (this decoder has one rotary table).
    const sets = perKind.map((k) => JSON.stringify(raw[k]))
    if (new Set(sets).size > 1) {
      fields.problems.push(`"rope_parameters" differs between attention kinds (${perKind.join(", ")}); one rotary setting for every layer is supported`)
    }
    parameters = raw[perKind[0]!] as Record<string, unknown>
  }
  // Theta inside the object; the fallback (a top-level rope_theta in transformers 4's place, or the default) where it is not.
  const reader = new FieldReader(parameters)
  const theta = reader.positiveNumber("rope_theta", parameters.rope_theta === undefined ? fallbackTheta() : undefined)
  fields.problems.push(...reader.problems.map((p) => `${key}: ${p}`))
  return { theta, scaling: parseRopeScaling(parameters, fields, maxPositionEmbeddings, key, modelType) }
}

/**
 * gemma3's two rotary tables: full-attention layers rotate with `rope_theta` and
 * `rope_scaling`, sliding ones with `rope_local_base_freq` unscaled (Gemma3TextModel's
 * `rotary_emb_local`); transformers 5 writes one `rope_parameters` set per kind. `defaultTheta`:
 * the global base where the config has none (the architecture's default).
 */
export const gemmaRopes = (json: Record<string, unknown>, fields: FieldReader, maxPositionEmbeddings: number, defaultTheta: number): { readonly global: RopeSetting; readonly local: RopeSetting } => {
  const globalTheta = () => fields.positiveNumber("rope_theta", defaultTheta)
  const localTheta = () => fields.positiveNumber("rope_local_base_freq", 10000)
  if (ropeKinds(json).length === 0) {
    return { global: parseRope(json, fields, maxPositionEmbeddings, globalTheta, "gemma3_text"), local: { theta: localTheta(), scaling: { type: "default" } } }
  }
  return {
    global: parseRope(json, fields, maxPositionEmbeddings, globalTheta, "gemma3_text", "full_attention"),
    local: parseRope(json, fields, maxPositionEmbeddings, localTheta, "gemma3_text", "sliding_attention")
  }
}
