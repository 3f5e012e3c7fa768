/**
 * Checks every model implementation runs before a `step` / `evaluate`, so
 * algorithms get the same clear errors from every provider.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { checkBatch, checkFeeds, nllObjective } from "@refine-af/training"
 * const batch = [{ tokens: [1, 2, 3], promptLength: 1 }]
 * Effect.runSync(checkBatch(batch, 64))
 * Effect.runSync(checkFeeds(nllObjective, batch, {}))
 * ```
 */
import { Effect } from "effect"
import { PolicyError } from "./errors.ts"
import type { HeadName, Objective } from "./objective.ts"
import { completionLength, type Heads, type TokenSequence } from "./sequences.ts"

/** Every sequence has a prompt, a completion, and fits the context. */
export const checkBatch = (batch: ReadonlyArray<TokenSequence>, contextLength: number): Effect.Effect<void, PolicyError> =>
  Effect.suspend(() => {
    if (batch.length === 0) return Effect.fail(new PolicyError({ reason: "InvalidRequest", message: "empty batch", fix: "pass at least one sequence" }))
    for (const [i, s] of batch.entries()) {
      if (!Number.isInteger(s.promptLength) || s.promptLength < 1)
        return Effect.fail(new PolicyError({ reason: "InvalidRequest", message: `sequence ${i}: promptLength ${s.promptLength} must be an integer ≥ 1`, fix: "start every sequence with at least one prompt token (e.g. BOS)" }))
      if (completionLength(s) < 1)
        return Effect.fail(new PolicyError({ reason: "InvalidRequest", message: `sequence ${i}: no completion tokens (${s.tokens.length} tokens, promptLength ${s.promptLength})`, fix: "drop sequences with an empty completion" }))
      if (s.tokens.length > contextLength)
        return Effect.fail(new PolicyError({ reason: "ContextOverflow", message: `sequence ${i}: ${s.tokens.length} tokens exceed the model's context of ${contextLength}`, fix: "truncate or drop long sequences, or raise the model's max_context" }))
    }
    return Effect.void
  })

/** The feeds match the objective's names and each sequence's completion length; the session has the heads the objective reads. */
export const checkFeeds = <F extends string>(
  objective: Objective<F>,
  batch: ReadonlyArray<TokenSequence>,
  feeds: Readonly<Record<F, ReadonlyArray<ReadonlyArray<number>>>>,
  available: ReadonlyArray<HeadName> = ["values", "entropy"]
): Effect.Effect<void, PolicyError> =>
  Effect.suspend(() => {
    const fail = (message: string, fix: string) => Effect.fail(new PolicyError({ reason: "InvalidRequest", message: `objective ${objective.id}: ${message}`, fix }))
    for (const head of objective.heads)
      if (!available.includes(head)) return fail(`reads head "${head}", which this session lacks`, head === "values" ? "open the session with valueHead: true" : "use a model that provides this head")
    for (const name of objective.feeds) {
      const rows = (feeds as Record<string, ReadonlyArray<ReadonlyArray<number>> | undefined>)[name]
      if (rows === undefined) return fail(`feed "${name}" is missing`, `pass feeds.${name}: one number per completion token of each sequence`)
      if (rows.length !== batch.length) return fail(`feed "${name}" has ${rows.length} rows for ${batch.length} sequences`, "give one row per sequence, in batch order")
      for (const [i, row] of rows.entries()) {
        const want = completionLength(batch[i]!)
        if (row.length !== want) return fail(`feed "${name}" row ${i} has ${row.length} values, sequence ${i} has ${want} completion tokens`, "give one value per completion token")
        if (!row.every(Number.isFinite)) return fail(`feed "${name}" row ${i} holds a non-finite value`, "check the rewards/advantages that produced it")
      }
    }
    return Effect.void
  })

/**
 * `evaluate`'s outputs are finite: a NaN/∞ log-probability, value or entropy
 * (weights or an adapter overflowing float32) would otherwise flow into
 * advantages and losses. Fails with `NonFinite` naming the batch row, the head
 * and the completion token.
 */
export const checkFiniteHeads = (heads: ReadonlyArray<Heads>, reference = false): Effect.Effect<void, PolicyError> =>
  Effect.suspend(() => {
    for (const [row, h] of heads.entries()) {
      for (const name of ["logprobs", "values", "entropy"] as const) {
        const values = h[name]
        const at = values?.findIndex((v) => !Number.isFinite(v)) ?? -1
        if (at >= 0)
          return Effect.fail(
            new PolicyError({
              reason: "NonFinite",
              message: `evaluate${reference ? " (reference, adapter off)" : ""}: the ${name} of batch row ${row} hold ${values![at]} at completion token ${at}`,
              fix: reference
                ? "the base model overflows float32 on this sequence: check the checkpoint (re-download or re-convert it)"
                : "the adapter or value head diverged (lower the learning rate, clip the gradient norm) or the base model overflows float32; resume continues from the last checkpoint"
            })
          )
      }
    }
    return Effect.void
  })
