/**
 * What `ppo/train` stores beside the session's checkpoint: the next iteration,
 * the KL coefficient and the running score moments — everything the loop needs
 * beyond the model's own state to continue bitwise identically.
 */
import type { Json } from "@refine-af/core"
import { initialMoments, type RunningMoments } from "@refine-af/training"

export interface PpoState {
  /** Iterations completed. */
  readonly step: number
  readonly klCoef: number
  readonly moments: RunningMoments
}

export const freshState = (klCoef: number): PpoState => ({ step: 0, klCoef, moments: initialMoments })

export const encodeState = (s: PpoState): Json => ({ step: s.step, klCoef: s.klCoef, moments: { mean: s.moments.mean, variance: s.moments.variance, count: s.moments.count } })

/** The stored state, or undefined when there is none (a fresh run) or it is not ours. */
export const decodeState = (json: Json | undefined): PpoState | undefined => {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return undefined
  const o = json as Record<string, Json>
  const m = o["moments"] as Record<string, Json> | undefined
  if (typeof o["step"] !== "number" || typeof o["klCoef"] !== "number" || m === undefined) return undefined
  return { step: o["step"], klCoef: o["klCoef"], moments: { mean: Number(m["mean"]), variance: Number(m["variance"]), count: Number(m["count"]) } }
}
