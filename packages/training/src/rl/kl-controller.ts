/**
 * KL-penalty coefficient controllers of classic RLHF PPO (Ziegler et al. 2019,
 * as in TRL's `FixedKLController` / `AdaptiveKLController`). Pure functions over a
 * plain state, so a checkpoint stores the coefficient and a resume continues it.
 *
 * Adaptive: e = clip(KL / target − 1, −0.2, 0.2); β ← β · (1 + e · n / horizon),
 * where n is the number of rollouts the KL was measured on.
 *
 * @example
 * ```ts
 * import { updateKlCoefficient } from "@refine-af/training"
 * const ctl = { kind: "adaptive", initial: 0.2, target: 6, horizon: 10000 } as const
 * updateKlCoefficient(ctl, 0.2, 12, 256) // 0.2 · (1 + 0.2 · 256 / 10000)
 * ```
 */

/** A constant coefficient. */
export interface FixedKlController {
  readonly kind: "fixed"
  readonly initial: number
}

/** The proportional controller that steers the measured KL toward `target`. */
export interface AdaptiveKlController {
  readonly kind: "adaptive"
  readonly initial: number
  readonly target: number
  readonly horizon: number
}

export type KlController = FixedKlController | AdaptiveKlController

/** The coefficient after one update with the KL measured on `nRollouts` rollouts. */
export const updateKlCoefficient = (controller: KlController, coefficient: number, measuredKl: number, nRollouts: number): number => {
  if (controller.kind === "fixed") return coefficient
  const error = Math.min(0.2, Math.max(-0.2, measuredKl / controller.target - 1))
  return coefficient * (1 + (error * nRollouts) / controller.horizon)
}
