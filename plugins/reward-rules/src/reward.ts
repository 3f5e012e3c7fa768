/**
 * `rules/reward` — a `Reward` that applies text rules to the raw completion,
 * for toy RL tasks ("the completion contains a digit") with no data format.
 *
 * @example
 * ```yaml
 * reward: { _component_: rules/reward, rules: [{ kind: contains-digit }] }
 * ```
 */
import { Effect } from "effect"
import { defineResource, Reward, type RewardService } from "@refine-af/core"
import { RuleSet, scoreText } from "./rules.ts"

/** The reward service for decoded rules. */
export const makeRuleReward = (name: string, rules: RuleSet): RewardService => ({
  name,
  reward: (rollouts) => Effect.sync(() => rollouts.map((r) => scoreText(rules, r.completion)))
})

export const ruleRewardResource = defineResource({
  description: "Rewards raw completions with weighted text rules (contains-digit, ends-with-period, regex, non-empty): toy RL tasks.",
  provides: Reward,
  options: RuleSet,
  make: (ctx) => Effect.succeed(makeRuleReward(ctx.name, ctx.options))
})
