/**
 * LoRA adapter settings, as PEFT's `LoraConfig` names them. A session trains
 * ΔW = s·B·A on each target module, with s = alpha / rank (or alpha / √rank
 * under rsLoRA); A starts random (seeded), B at zero, so a fresh adapter leaves
 * the model unchanged.
 *
 * @example
 * ```ts
 * import { defaultLoraConfig, loraScale, type LoraConfig } from "@refine-af/training"
 * const lora: LoraConfig = { ...defaultLoraConfig, rank: 16, alpha: 32, targets: ["q_proj", "k_proj", "v_proj", "o_proj"] }
 * loraScale(lora) // 2
 * ```
 */
import { Schema } from "effect"

export interface LoraConfig {
  /** Rank r of A [r, in] and B [out, r]. */
  readonly rank: number
  /** Scaling numerator (PEFT `lora_alpha`). */
  readonly alpha: number
  /** Dropout probability on the adapter branch's input during `step` (not during `evaluate`/`sample`). */
  readonly dropout: number
  /** rsLoRA: scale alpha / √rank instead of alpha / rank. */
  readonly rsLora: boolean
  /** Module names to adapt (PEFT `target_modules`, e.g. `q_proj`); a model lists its own in `PolicyModelInfo.loraTargets`. */
  readonly targets: ReadonlyArray<string>
}

/** PEFT's defaults with the attention query/value projections as targets. */
export const defaultLoraConfig: LoraConfig = { rank: 8, alpha: 16, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj"] }

/** The adapter's output scale s. */
export const loraScale = (config: Pick<LoraConfig, "rank" | "alpha" | "rsLora">): number =>
  config.rsLora ? config.alpha / Math.sqrt(config.rank) : config.alpha / config.rank

/** A recipe-facing Schema of {@link LoraConfig}; omitted fields take {@link defaultLoraConfig}'s values. */
export const LoraOptions = Schema.Struct({
  rank: Schema.optional(Schema.Int.check(Schema.isGreaterThan(0)).annotate({ description: "LoRA rank r (default 8)." })),
  alpha: Schema.optional(Schema.Number.check(Schema.isGreaterThan(0)).annotate({ description: "LoRA alpha: the update is scaled by alpha / r (alpha / √r with rsLora); default 16." })),
  dropout: Schema.optional(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThan(1)).annotate({ description: "Dropout on the adapter's input during training (default 0)." })),
  rsLora: Schema.optional(Schema.Boolean.annotate({ description: "Rank-stabilised LoRA scaling alpha / √r (default false)." })),
  targets: Schema.optional(Schema.Array(Schema.String).check(Schema.isMinLength(1)).annotate({ description: "Projections that get an adapter, e.g. q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (phi3: qkv_proj, o_proj, gate_up_proj, down_proj); default q_proj, v_proj (phi3: qkv_proj)." }))
})
export type LoraOptions = typeof LoraOptions.Type

/** Fills the omitted fields of recipe options with the defaults; omitted targets are the model's own default where it names one (`info.defaultLoraTargets`). */
export const loraConfigFrom = (options: LoraOptions | undefined, info?: { readonly defaultLoraTargets?: ReadonlyArray<string> }): LoraConfig => ({
  rank: options?.rank ?? defaultLoraConfig.rank,
  alpha: options?.alpha ?? defaultLoraConfig.alpha,
  dropout: options?.dropout ?? defaultLoraConfig.dropout,
  rsLora: options?.rsLora ?? defaultLoraConfig.rsLora,
  targets: options?.targets ?? info?.defaultLoraTargets ?? defaultLoraConfig.targets
})
