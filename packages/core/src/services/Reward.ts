/**
 * The `Reward` service: a rollout-level reward for RL stages. An RL trainer
 * samples a completion for a prompt record and asks the reward what it is worth.
 *
 * A reward lives with the data format it understands (e.g. Self-Instruct's
 * instance reward parses a completion into (input, output) with the instances
 * stage's parser, then scores the pair with a `Scorer`), so the trainer never
 * learns that format. Combination rule: one reward per RL stage; combining
 * several signals is the job of the scorer behind it (a composite scorer).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { RewardService } from "@refine-af/core"
 * const meanReward = (r: RewardService) =>
 *   Effect.map(r.reward([{ record: { instruction: "Add 2 and 2." }, completion: "Input:\nOutput: 4" }]), (scores) => scores[0]!.value)
 * ```
 */
import { Context, Schema, type Effect } from "effect"
import type { FinishReason } from "./LanguageModel.ts"
import type { JsonRecord } from "../stage/context.ts"

/** One sampled completion and the prompt record it answers. */
export interface Rollout {
  /** The prompt record as the RL stage read it (e.g. `{ prompt, instruction, is_classification }`). */
  readonly record: JsonRecord
  /** The sampled text after the prompt. */
  readonly completion: string
  /** Why sampling stopped; a reward may treat a length-cut completion differently. */
  readonly finishReason?: FinishReason
}

/** The worth of one rollout. */
export interface RolloutReward {
  /** The scalar reward (finite). */
  readonly value: number
  /** Named parts (scorer parts, penalties) for logging. */
  readonly parts?: Readonly<Record<string, number>>
}

/** A reward could not be computed (scorer failure, a prompt record it cannot read). */
export class RewardError extends Schema.TaggedError<RewardError>()("RewardError", {
  reward: Schema.String,
  message: Schema.String,
  fix: Schema.optional(Schema.String)
}) {}

export interface RewardService {
  readonly name: string
  /** Rewards in rollout order. */
  readonly reward: (rollouts: ReadonlyArray<Rollout>) => Effect.Effect<ReadonlyArray<RolloutReward>, RewardError>
}

export class Reward extends Context.Service<Reward, RewardService>()("@refine-af/core/Reward") {}
