/**
 * @refine-af/rl-grpo — `grpo/train`: GRPO (Shao et al. 2024) from automated feedback over
 * any `PolicyModel` and `Reward`. The loop is shared with `rloo/train` /
 * `grpo/train` and lives in `@refine-af/training` (`rl/group/`); this plugin
 * names it and gives it GRPO's defaults.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/rl-grpo"]
 * stages:
 *   grpo: { _component_: grpo/train, prompts: rl_prompts, policy: policy, reward: reward, steps: 30 }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { grpoStage } from "@refine-af/training"

export { GrpoOptions, grpoDefaults, grpoStage } from "@refine-af/training"

/** The plugin manifest (`grpo/train` in recipes). */
export default definePlugin({
  name: "grpo",
  version: "0.4.2",
  description: "GRPO from automated feedback: k samples per prompt, group-standardised advantages, k3 KL to the reference, no value head.",
  components: { train: grpoStage }
})
