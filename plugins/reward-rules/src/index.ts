/**
 * @refine-af/reward-rules — rule-based feedback for tests and toy RL tasks:
 * `rules/scorer` (a `Scorer` over one field of a sample) and `rules/reward`
 * (a `Reward` over the raw completion).
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/reward-rules"]
 * resources:
 *   reward: { _component_: rules/reward, rules: [{ kind: contains-digit }] }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { ruleRewardResource } from "./reward.ts"
import { ruleScorerResource } from "./scorer.ts"
import { verifyScorerResource } from "./verify.ts"

export * from "./rules.ts"
export * from "./scorer.ts"
export * from "./reward.ts"
export * from "./checks.ts"
export * from "./verify.ts"

/** The plugin manifest (`rules/<component>` in recipes). */
export default definePlugin({
  name: "rules",
  version: "0.1.0",
  description: "Rule-based Scorer and Reward for tests and toy RL tasks, and an answer verifier for procedural tasks.",
  components: { scorer: ruleScorerResource, reward: ruleRewardResource, verify: verifyScorerResource }
})
