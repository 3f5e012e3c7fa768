/**
 * `self-instruct/instance-reward` — the `Reward` of RL on instance generation:
 * reads a completion of an `rl-prompts` prompt back into (input, output) pairs
 * with the instances stage's own parser (output-first for classification
 * prompts, torn last pair dropped when sampling hit the length limit), scores
 * each pair with the `scorer` slot as (instruction, input, output), and returns
 * the mean. A completion with no readable pair gets `unparsablePenalty`.
 *
 * Parts: every scorer part (mean over pairs), `pairs`, `unparsable_blocks`,
 * `unparsable` (1 when penalised).
 *
 * @example
 * ```yaml
 * resources:
 *   quality: { _component_: rules/scorer, rules: [{ kind: ends-with-period }] }
 *   reward: { _component_: self-instruct/instance-reward, scorer: quality, unparsablePenalty: -1 }
 * ```
 */
import { Effect, Schema } from "effect"
import { defineResource, Reward, RewardError, Scorer, type Rollout, type RolloutReward, type Sample } from "@refine-af/core"
import { positiveInt, withDefault } from "../options.ts"
import { readCompletion } from "../instances/completion.ts"

/** Options of `self-instruct/instance-reward`. */
export const InstanceRewardOptions = Schema.Struct({
  /** Reward of a completion with no readable (input, output) pair. */
  unparsablePenalty: Schema.Finite.annotate({ description: "Reward of a completion with no readable (input, output) pair." }).pipe(withDefault(-1)),
  /** Most pairs scored per completion (the first ones). */
  maxPairs: positiveInt.annotate({ description: "Most pairs scored per completion (the first ones)." }).pipe(withDefault(1))
})
export type InstanceRewardOptions = typeof InstanceRewardOptions.Type

interface Plan {
  readonly pairs: ReadonlyArray<Sample>
  readonly unparsableBlocks: number
}

const planOf = (name: string, maxPairs: number) => (rollout: Rollout, index: number): Effect.Effect<Plan, RewardError> => {
  const instruction = rollout.record["instruction"]
  if (typeof instruction !== "string" || instruction.trim() === "") {
    return Effect.fail(new RewardError({ reward: name, message: `rollout ${index}: its prompt record has no "instruction" string`, fix: "feed the RL stage with records from self-instruct/rl-prompts" }))
  }
  const parsed = readCompletion(rollout.record["is_classification"] === true, rollout.completion, rollout.finishReason === "length")
  return Effect.succeed({ pairs: parsed.instances.slice(0, maxPairs).map((p) => ({ instruction, input: p.input, output: p.output })), unparsableBlocks: parsed.unparsable })
}

/** Builds the reward service over a scorer. */
export const makeInstanceReward = (name: string, options: InstanceRewardOptions, scorer: Scorer["Service"]): Reward["Service"] => ({
  name,
  reward: (rollouts) =>
    Effect.gen(function* () {
      const plans = yield* Effect.forEach(rollouts, planOf(name, options.maxPairs))
      const scores = yield* scorer.score(plans.flatMap((p) => p.pairs)).pipe(
        Effect.mapError((e) => new RewardError({ reward: name, message: `scorer ${e.scorer} failed: ${e.message}`, ...(e.fix ? { fix: e.fix } : {}) }))
      )
      let next = 0
      return plans.map((plan): RolloutReward => {
        const mine = scores.slice(next, next + plan.pairs.length)
        next += plan.pairs.length
        const base = { pairs: plan.pairs.length, unparsable_blocks: plan.unparsableBlocks }
        if (mine.length === 0) return { value: options.unparsablePenalty, parts: { ...base, unparsable: 1 } }
        const parts: Record<string, number> = { ...base, unparsable: 0 }
        for (const s of mine) for (const [k, v] of Object.entries(s.parts ?? {})) parts[k] = (parts[k] ?? 0) + v / mine.length
        return { value: mine.reduce((a, s) => a + s.value, 0) / mine.length, parts }
      })
    })
})

/** The instance-reward resource component. */
export const instanceRewardResource = defineResource({
  description:
    "Reward for RL on instance generation: parses a completion into (input, output) with the instances stage's parser, scores the pairs with a Scorer; unparsable → a configurable penalty.",
  provides: Reward,
  options: InstanceRewardOptions,
  uses: { scorer: Scorer },
  make: (ctx) => Effect.succeed(makeInstanceReward(ctx.name, ctx.options, ctx.uses.scorer))
})
