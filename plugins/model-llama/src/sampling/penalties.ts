/**
 * Logit penalties for repeated tokens, applied to a copy of the logits before
 * temperature: the Hugging Face repetition penalty (over prompt and generated
 * tokens) and the OpenAI presence / frequency penalties (over generated tokens).
 */

/** Penalty settings; absent or neutral values skip the work. */
export interface PenaltyParams {
  readonly repetitionPenalty?: number
  readonly presencePenalty?: number
  readonly frequencyPenalty?: number
}

/** True when any penalty would change the logits. */
export const hasPenalties = (p: PenaltyParams): boolean =>
  (p.repetitionPenalty !== undefined && p.repetitionPenalty !== 1) || !!p.presencePenalty || !!p.frequencyPenalty

/**
 * Applies the penalties in place. `promptIds` and `generatedIds` are the
 * context; only tokens that occur are touched, so the cost is O(context).
 */
export const applyPenalties = (logits: Float32Array, promptIds: ReadonlyArray<number>, generatedIds: ReadonlyArray<number>, p: PenaltyParams): void => {
  const repetition = p.repetitionPenalty ?? 1
  if (repetition !== 1) {
    // HF semantics: each seen token is penalised once, dividing positive logits and multiplying negative ones.
    for (const id of new Set([...promptIds, ...generatedIds])) {
      const value = logits[id]!
      logits[id] = value > 0 ? value / repetition : value * repetition
    }
  }
  if (p.presencePenalty || p.frequencyPenalty) {
    const counts = new Map<number, number>()
    for (const id of generatedIds) counts.set(id, (counts.get(id) ?? 0) + 1)
    for (const [id, count] of counts) logits[id] = logits[id]! - (p.presencePenalty ?? 0) - (p.frequencyPenalty ?? 0) * count
  }
}
