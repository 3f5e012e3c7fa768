/**
 * Rotary position embedding frequencies, including the rope-scaling variants
 * of Hugging Face configs: linear (position interpolation), dynamic NTK,
 * llama3 (wavelength-banded), yarn and longrope (Phi-3's per-frequency short
 * and long factors). The output is host data: the model turns it into cos/sin
 * tables for the positions it runs.
 */

/** Rope scaling as declared in `config.json` `rope_scaling`, normalised. */
export type RopeScaling =
  | { readonly type: "default" }
  | { readonly type: "linear"; readonly factor: number }
  | { readonly type: "dynamic"; readonly factor: number }
  | {
    readonly type: "llama3"
    readonly factor: number
    readonly lowFreqFactor: number
    readonly highFreqFactor: number
    readonly originalMaxPositionEmbeddings: number
  }
  | {
    readonly type: "yarn"
    readonly factor: number
    readonly originalMaxPositionEmbeddings: number
    readonly betaFast: number
    readonly betaSlow: number
    readonly attentionFactor: number | undefined
    readonly mscale: number | undefined
    readonly mscaleAllDim: number | undefined
    readonly truncate: boolean
  }
  | {
    /**
     * LongRoPE (Phi-3 / Phi-3.5 / Phi-4-mini; `su` and, in Phi-3 configs, `yarn` are its older
     * names): each frequency divided by its own factor, `shortFactor` for sequences of up to
     * `originalMaxPositionEmbeddings` tokens and `longFactor` beyond; cos and sin scaled by
     * `attentionFactor` either way.
     */
    readonly type: "longrope"
    readonly shortFactor: ReadonlyArray<number>
    readonly longFactor: ReadonlyArray<number>
    readonly originalMaxPositionEmbeddings: number
    readonly attentionFactor: number
  }

/** The rope scaling types this plugin implements. */
export const SUPPORTED_ROPE_TYPES = ["default", "linear", "dynamic", "llama3", "yarn", "longrope"] as const

/** Inverse frequencies (length `rotaryDim / 2`) and the factor that multiplies cos and sin. */
export interface RopeFrequencies {
  readonly inverseFrequencies: Float64Array
  readonly attentionScaling: number
  /**
   * longrope: the frequencies of sequences longer than `beyond` tokens. A run
   * whose newest position is `beyond` or later rotates with these
   * (transformers: the sequence length, max position + 1, decides per forward).
   */
  readonly long?: { readonly inverseFrequencies: Float64Array; readonly beyond: number }
}

const baseInverseFrequencies = (base: number, rotaryDim: number): Float64Array => {
  const out = new Float64Array(rotaryDim / 2)
  for (let i = 0; i < out.length; i++) out[i] = 1 / base ** ((2 * i) / rotaryDim)
  return out
}

const llama3 = (inv: Float64Array, s: Extract<RopeScaling, { type: "llama3" }>): Float64Array => {
  const lowFreqWavelength = s.originalMaxPositionEmbeddings / s.lowFreqFactor
  const highFreqWavelength = s.originalMaxPositionEmbeddings / s.highFreqFactor
  return inv.map((frequency) => {
    const wavelength = (2 * Math.PI) / frequency
    if (wavelength < highFreqWavelength) return frequency
    if (wavelength > lowFreqWavelength) return frequency / s.factor
    // Medium band: interpolate between the scaled and unscaled frequency.
    const smooth = (s.originalMaxPositionEmbeddings / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor)
    return (1 - smooth) * (frequency / s.factor) + smooth * frequency
  })
}

const yarnMscale = (scale: number, mscale = 1) => (scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1)

const yarn = (base: number, rotaryDim: number, s: Extract<RopeScaling, { type: "yarn" }>): RopeFrequencies => {
  const attentionScaling = s.attentionFactor ??
    (s.mscale && s.mscaleAllDim ? yarnMscale(s.factor, s.mscale) / yarnMscale(s.factor, s.mscaleAllDim) : yarnMscale(s.factor))
  const correctionDim = (rotations: number) =>
    (rotaryDim * Math.log(s.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(base))
  let low = correctionDim(s.betaFast)
  let high = correctionDim(s.betaSlow)
  if (s.truncate) {
    low = Math.floor(low)
    high = Math.ceil(high)
  }
  low = Math.max(low, 0)
  high = Math.min(high, rotaryDim - 1)
  if (low === high) high += 0.001
  const half = rotaryDim / 2
  const inverseFrequencies = new Float64Array(half)
  for (let i = 0; i < half; i++) {
    const extrapolated = 1 / base ** ((2 * i) / rotaryDim)
    const interpolated = extrapolated / s.factor
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)))
    const extrapolationWeight = 1 - ramp
    inverseFrequencies[i] = interpolated * (1 - extrapolationWeight) + extrapolated * extrapolationWeight
  }
  return { inverseFrequencies, attentionScaling }
}

/**
 * Rotary frequencies for `rotaryDim` (usually the head dim) and `base`
 * (`rope_theta`). `sequenceLength` only matters for dynamic NTK scaling, which
 * enlarges the base once the sequence outgrows `maxPositionEmbeddings`.
 *
 * @example
 * ```ts
 * import { ropeFrequencies } from "@refine-af/models"
 * const { inverseFrequencies } = ropeFrequencies({ type: "linear", factor: 2 }, 10000, 64, 2048, 2048)
 * ```
 */
export const ropeFrequencies = (
  scaling: RopeScaling,
  base: number,
  rotaryDim: number,
  maxPositionEmbeddings: number,
  sequenceLength: number
): RopeFrequencies => {
  switch (scaling.type) {
    case "default":
      return { inverseFrequencies: baseInverseFrequencies(base, rotaryDim), attentionScaling: 1 }
    case "linear":
      return { inverseFrequencies: baseInverseFrequencies(base, rotaryDim).map((f) => f / scaling.factor), attentionScaling: 1 }
    case "dynamic": {
      const length = Math.max(sequenceLength, maxPositionEmbeddings)
      const dynamicBase = base * ((scaling.factor * length) / maxPositionEmbeddings - (scaling.factor - 1)) ** (rotaryDim / (rotaryDim - 2))
      return { inverseFrequencies: baseInverseFrequencies(dynamicBase, rotaryDim), attentionScaling: 1 }
    }
    case "llama3":
      return { inverseFrequencies: llama3(baseInverseFrequencies(base, rotaryDim), scaling), attentionScaling: 1 }
    case "yarn":
      return yarn(base, rotaryDim, scaling)
    case "longrope": {
      const divided = (factors: ReadonlyArray<number>) => baseInverseFrequencies(base, rotaryDim).map((f, i) => f / factors[i]!)
      return {
        inverseFrequencies: divided(scaling.shortFactor),
        attentionScaling: scaling.attentionFactor,
        long: { inverseFrequencies: divided(scaling.longFactor), beyond: scaling.originalMaxPositionEmbeddings }
      }
    }
  }
}

/**
 * The frequencies a run of `positions` rotates with: longrope's long ones once
 * the newest position is past its original context (the sequence is then
 * longer than `beyond`), else the usual ones.
 */
export const frequenciesAt = (frequencies: RopeFrequencies, positions: ReadonlyArray<number>): RopeFrequencies => {
  const long = frequencies.long
  if (long === undefined) return frequencies
  let newest = -1
  for (const position of positions) newest = Math.max(newest, position)
  return newest + 1 > long.beyond ? { inverseFrequencies: long.inverseFrequencies, attentionScaling: frequencies.attentionScaling } : frequencies
}

/**
 * cos/sin tables `[positions, rotaryDim]` in HF's rotate_half layout (the
 * frequency vector repeated twice), float64 for exactness before casting.
 * longrope picks its short or long factors by the newest of `positions`
 * ({@link frequenciesAt}).
 */
export const rotaryTables = (all: RopeFrequencies, positions: ReadonlyArray<number>) => {
  const frequencies = frequenciesAt(all, positions)
  const half = frequencies.inverseFrequencies.length
  const dim = half * 2
  const cos = new Float64Array(positions.length * dim)
  const sin = new Float64Array(positions.length * dim)
  positions.forEach((position, row) => {
    for (let i = 0; i < half; i++) {
      const angle = position * frequencies.inverseFrequencies[i]!
      const c = Math.cos(angle) * frequencies.attentionScaling
      const s = Math.sin(angle) * frequencies.attentionScaling
      cos[row * dim + i] = c
      cos[row * dim + half + i] = c
      sin[row * dim + i] = s
      sin[row * dim + half + i] = s
    }
  })
  return { cos, sin, dim }
}
