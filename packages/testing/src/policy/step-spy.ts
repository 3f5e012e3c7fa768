/**
 * A `PolicyModel` that records every optimizer update its sessions take —
 * the objective id, the learning rate, the sequences, the feeds and the step's metrics —,
 * every evaluation (the sequences, what was asked, the heads returned) and every
 * sampling call (how many prompts, the sampling parameters),
 * around another one (the table policy, usually): for tests of what a trainer
 * asks of the model (schedules, early stopping), beside what it reports.
 *
 * @example
 * ```ts
 * import { stepSpy, tablePolicyModel } from "@refine-af/testing"
 * const spy = stepSpy(tablePolicyModel({ seed: 3 }))
 * // run a trainer with `spy.policy`, then read spy.updates[i].lr, .metrics["policy_kl"], …
 * ```
 */
import { Effect } from "effect"
import type { SamplingParams } from "@refine-af/core"
import type { EvaluateOptions, Heads, PolicyModelService, TokenSequence } from "@refine-af/training"

export interface SpiedUpdate {
  readonly objective: string
  readonly lr: number
  /** The update's sequences and per-token feeds, as the trainer passed them. */
  readonly batch: ReadonlyArray<TokenSequence>
  readonly feeds: Readonly<Record<string, ReadonlyArray<ReadonlyArray<number>>>>
  readonly loss: number
  readonly metrics: Readonly<Record<string, number>>
}

export interface SpiedEvaluation {
  readonly batch: ReadonlyArray<TokenSequence>
  readonly want: EvaluateOptions | undefined
  readonly heads: ReadonlyArray<Heads>
}

export interface SpiedSampling {
  readonly prompts: number
  readonly params: SamplingParams
}

export const stepSpy = (inner: PolicyModelService): {
  readonly policy: PolicyModelService
  readonly updates: Array<SpiedUpdate>
  readonly evaluations: Array<SpiedEvaluation>
  readonly samplings: Array<SpiedSampling>
} => {
  const updates: Array<SpiedUpdate> = []
  const evaluations: Array<SpiedEvaluation> = []
  const samplings: Array<SpiedSampling> = []
  const policy: PolicyModelService = {
    ...inner,
    session: (options) =>
      Effect.map(inner.session(options), (session) => ({
        ...session,
        sample: (prompts, params) => Effect.tap(session.sample(prompts, params), () => Effect.sync(() => samplings.push({ prompts: prompts.length, params }))),
        evaluate: (batch, want) => Effect.tap(session.evaluate(batch, want), (heads) => Effect.sync(() => evaluations.push({ batch, want, heads }))),
        step: (objective, batch, feeds, hyper) =>
          Effect.tap(session.step(objective, batch, feeds, hyper), (result) =>
            Effect.sync(() => updates.push({ objective: objective.id, lr: hyper.lr, batch, feeds: feeds as SpiedUpdate["feeds"], loss: result.loss, metrics: result.metrics })))
      }))
  }
  return { policy, updates, evaluations, samplings }
}
