/**
 * LoRA adapter settings and their PEFT `adapter_config.json` form, so that
 * adapters trained here load in Python PEFT and vLLM and vice versa.
 */
import { Effect } from "effect"
import { isJsonObject, LLAMA_PROJECTIONS, type LlamaConfig, type LlamaProjection } from "@refine-af/models"
import { AdapterFormatError } from "./errors.ts"

/** The projection names LoRA may target in any Llama-family decoder (a model has the ones `projectionsOf` lists). */
export const LORA_TARGETS = LLAMA_PROJECTIONS

/** One LoRA target: a projection of the trunk. */
export type LoraTarget = LlamaProjection

/** The targets a recipe that names none gets: PEFT's defaults, q_proj and v_proj, or phi3's fused qkv_proj. */
export const defaultLoraTargetsOf = (config: Pick<LlamaConfig, "fusedProjections">): Array<LoraTarget> => (config.fusedProjections ? ["qkv_proj"] : ["q_proj", "v_proj"])

/** A LoRA adapter's hyper-parameters. */
export interface LoraConfig {
  readonly r: number
  readonly alpha: number
  readonly dropout: number
  readonly targetModules: ReadonlyArray<LoraTarget>
  /** rsLoRA scales by alpha/√r instead of alpha/r. */
  readonly useRsLora: boolean
  /** What PEFT loads the base from (`AutoPeftModelForCausalLM`): a Hub repo id or a folder; null when unknown. */
  readonly baseModelNameOrPath: string | null
  /** The base's Hub revision, where it is not `main`. */
  readonly revision?: string | null
}

/** The factor that multiplies B·A. */
export const loraScale = (config: Pick<LoraConfig, "r" | "alpha" | "useRsLora">): number =>
  config.useRsLora ? config.alpha / Math.sqrt(config.r) : config.alpha / config.r

/** A string matched literally inside a regular expression. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * `target_modules` as PEFT should read it back: the projection names; for a multimodal base a pattern
 * (PEFT full-matches a string against each module path) that keeps them to the language model — a
 * bare `q_proj` would also wrap the vision tower's, left at their zero start — and names each
 * image-side module the adapter holds (under transformers ≥ 4.52's `model.` or 4.50's paths).
 */
const targetModulesJson = (targets: ReadonlyArray<LoraTarget>, base: { readonly multimodal: string | null; readonly outsideModules: ReadonlyArray<string> }): string | Array<string> => {
  if (base.multimodal === null) return [...targets]
  const language = `.*language_model.*\\.(?:${targets.join("|")})`
  const outside = base.outsideModules.map((module) => `(?:model\\.)?${literal(module.replace(/^model\./, ""))}`)
  return outside.length === 0 ? language : [language, ...outside].join("|")
}

/**
 * The PEFT `adapter_config.json` object for a config (keys as PEFT writes them); `base` says whether
 * the base model is multimodal and which image-side modules the adapter holds.
 */
export const toAdapterConfigJson = (config: LoraConfig, base: { readonly multimodal: string | null; readonly outsideModules: ReadonlyArray<string> } = { multimodal: null, outsideModules: [] }): Record<string, unknown> => ({
  peft_type: "LORA",
  task_type: "CAUSAL_LM",
  base_model_name_or_path: config.baseModelNameOrPath,
  r: config.r,
  lora_alpha: config.alpha,
  lora_dropout: config.dropout,
  target_modules: targetModulesJson(config.targetModules, base),
  bias: "none",
  fan_in_fan_out: false,
  inference_mode: true,
  init_lora_weights: true,
  modules_to_save: null,
  layers_to_transform: null,
  layers_pattern: null,
  rank_pattern: {},
  alpha_pattern: {},
  use_rslora: config.useRsLora,
  use_dora: false,
  revision: config.revision ?? null
})

const targetsFrom = (raw: unknown, problems: Array<string>, available: ReadonlyArray<LoraTarget>): Array<LoraTarget> => {
  if (raw === "all-linear") return [...available]
  if (typeof raw === "string") {
    // PEFT treats a string as a regex that must fully match the module path.
    try {
      const pattern = new RegExp(`^(?:${raw})$`)
      // The decoder's modules as a text model, a multimodal one (transformers ≥ 4.52) and one of 4.50 name them.
      const paths = (target: string) => ["model.layers", "model.language_model.layers", "language_model.model.layers"].flatMap((layers) => [`${layers}.0.self_attn.${target}`, `${layers}.0.mlp.${target}`])
      const matched = available.filter((target) => paths(target).some((path) => pattern.test(path)))
      if (matched.length > 0) return matched
    } catch {
      // fall through to the problem below
    }
    problems.push(`target_modules regex ${JSON.stringify(raw)} matches none of ${available.join(", ")}`)
    return []
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push(`target_modules is ${JSON.stringify(raw)}, expected a non-empty list of ${available.join(", ")}`)
    return []
  }
  const unknown = raw.filter((name) => !(available as ReadonlyArray<unknown>).includes(name))
  if (unknown.length > 0) problems.push(`target_modules ${JSON.stringify(unknown)} are not projections of this architecture (${available.join(", ")})`)
  return raw.filter((name): name is LoraTarget => (available as ReadonlyArray<unknown>).includes(name))
}

/**
 * Validates a parsed `adapter_config.json`, listing every problem. `available`: the
 * projections of the model it is for (what `all-linear` and a regex expand to), by default
 * every projection name of the supported families.
 */
export const parseAdapterConfig = (path: string, json: unknown, available: ReadonlyArray<LoraTarget> = LORA_TARGETS): Effect.Effect<LoraConfig, AdapterFormatError> => {
  const problems: Array<string> = []
  if (!isJsonObject(json)) {
    return Effect.fail(new AdapterFormatError({ path, problems: ["not a JSON object"], message: `${path} is not a JSON object.` }))
  }
  if (json.peft_type !== "LORA") problems.push(`peft_type is ${JSON.stringify(json.peft_type)}; only "LORA" is supported`)
  if (json.task_type !== undefined && json.task_type !== null && json.task_type !== "CAUSAL_LM") problems.push(`task_type is ${JSON.stringify(json.task_type)}; expected "CAUSAL_LM"`)
  const r = json.r
  if (typeof r !== "number" || !Number.isSafeInteger(r) || r <= 0) problems.push(`r is ${JSON.stringify(r)}, expected a positive integer`)
  const alpha = json.lora_alpha
  if (typeof alpha !== "number" || !(alpha > 0)) problems.push(`lora_alpha is ${JSON.stringify(alpha)}, expected a positive number`)
  const dropout = json.lora_dropout ?? 0
  if (typeof dropout !== "number" || dropout < 0 || dropout >= 1) problems.push(`lora_dropout is ${JSON.stringify(dropout)}, expected a number in [0, 1)`)
  if (json.bias !== undefined && json.bias !== "none") problems.push(`bias ${JSON.stringify(json.bias)} is not supported (only "none")`)
  if (json.use_dora === true) problems.push("use_dora adapters are not supported")
  if (json.fan_in_fan_out === true) problems.push("fan_in_fan_out adapters (GPT-2 style Conv1D) do not apply to Llama-family models")
  for (const key of ["rank_pattern", "alpha_pattern"]) {
    const pattern = json[key]
    if (isJsonObject(pattern) && Object.keys(pattern).length > 0) problems.push(`${key} (per-module ranks) is not supported`)
  }
  if (json.layers_to_transform !== undefined && json.layers_to_transform !== null) problems.push("layers_to_transform is not supported")
  const targetModules = targetsFrom(json.target_modules, problems, available)
  if (problems.length > 0) {
    return Effect.fail(new AdapterFormatError({ path, problems, message: `${path} is not a supported LoRA adapter:\n  - ${problems.join("\n  - ")}` }))
  }
  const base = json.base_model_name_or_path
  const revision = json.revision
  return Effect.succeed({
    r: r as number,
    alpha: alpha as number,
    dropout: dropout as number,
    targetModules,
    useRsLora: json.use_rslora === true,
    baseModelNameOrPath: typeof base === "string" ? base : null,
    ...(typeof revision === "string" ? { revision } : {})
  })
}
