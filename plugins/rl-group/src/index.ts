/**
 * @refine-af/rl-group — group-baseline RL from automated feedback over any
 * `PolicyModel` and `Reward`: `group/grpo` and `group/rloo`.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/rl-group"]
 * stages:
 *   grpo: { _component_: group/grpo, prompts: rl_prompts, policy: policy, reward: reward, steps: 30 }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { grpoStage, rlooStage } from "./stage.ts"

export * from "./options.ts"
export { grpoStage, rlooStage } from "./stage.ts"

/** The plugin manifest (`group/<component>` in recipes). */
export default definePlugin({
  name: "group",
  version: "0.1.0",
  description: "GRPO and RLOO: group baselines, k3 KL to the reference, no value head.",
  components: { grpo: grpoStage, rloo: rlooStage }
})
