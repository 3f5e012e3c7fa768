/**
 * @refine-af/rl-rloo — `rloo/train`: RLOO (Ahmadian et al. 2024) from automated feedback over
 * any `PolicyModel` and `Reward`. The loop is shared with `rloo/train` /
 * `grpo/train` and lives in `@refine-af/training` (`rl/group/`); this plugin
 * names it and gives it RLOO's defaults.
 *
 * @example
 * ```yaml
 * plugins: ["@refine-af/rl-rloo"]
 * stages:
 *   rloo: { _component_: rloo/train, prompts: rl_prompts, policy: policy, reward: reward, steps: 30 }
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { rlooStage } from "@refine-af/training"

export { RlooOptions, rlooDefaults, rlooStage } from "@refine-af/training"

/** The plugin manifest (`rloo/train` in recipes). */
export default definePlugin({
  name: "rloo",
  version: "0.4.2",
  description: "RLOO from automated feedback: k samples per prompt, leave-one-out baseline, k3 KL to the reference, no value head.",
  components: { train: rlooStage }
})
