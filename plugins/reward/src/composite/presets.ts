/**
 * Named weightings of `reward/composite`.
 *
 * `instructmining` is InstructMining's fitted quality rule (Cao et al., 2023),
 * `r = -0.0274 + 0.0078·Rew + 0.3212·Nat + 0.1520·Coh - 0.4421·Und`, which
 * REFINE-AF builds its reward on. Inferred: the REFINE-AF paper body is not
 * public here, so the exact combination it used is our reading, not a quote.
 * Rew is the reward model's value (slot `reward_model`); Nat, Coh, Und are the
 * UniEval dialogue parts of the `quality` slot (`unieval/dialog` or `judge/lm`).
 *
 * @example
 * ```ts
 * import { presets } from "@refine-af/reward"
 * presets.instructmining.bias // -0.0274
 * ```
 */
import type { Term } from "./terms.ts"

export interface Preset {
  readonly bias: number
  readonly terms: ReadonlyArray<Term>
  /** Where the weights come from. */
  readonly source: string
}

export const presets: Readonly<Record<"instructmining", Preset>> = {
  instructmining: {
    bias: -0.0274,
    terms: [
      { name: "Rew", slot: "reward_model", weight: 0.0078 },
      { name: "Nat", slot: "quality", part: "naturalness", weight: 0.3212 },
      { name: "Coh", slot: "quality", part: "coherence", weight: 0.152 },
      { name: "Und", slot: "quality", part: "understandability", weight: -0.4421 }
    ],
    source: "InstructMining (Cao et al. 2023) fitted rule; inferred as REFINE-AF's reward"
  }
}
