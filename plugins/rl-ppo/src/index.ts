/**
 * @refine-af/rl-ppo — `ppo/train`: PPO from automated feedback over any
 * `PolicyModel` and `Reward`.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/rl-ppo"]
 * stages:
 *   ppo: { _component_: ppo/train, prompts: rl_prompts, policy: policy, reward: reward, steps: 50 }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { ppoTrainStage } from "./stage.ts"

export * from "./options.ts"
export { ppoTrainStage } from "./stage.ts"

/** The plugin manifest (`ppo/<component>` in recipes). */
export default definePlugin({
  name: "ppo",
  version: "0.2.2",
  description: "PPO from automated feedback (classic RLHF PPO).",
  components: { train: ppoTrainStage }
})
