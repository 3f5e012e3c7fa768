/**
 * A PEFT adapter as step-program inputs: the program's LoRA layout and the
 * A/B matrices as feeds named like the program's LoRA parameters
 * (`<module>.lora_A.weight`, `<module>.lora_B.weight`).
 */
import type { HostTensor } from "@refine-af/tensor"
import type { ProgramLora } from "@refine-af/models"
import { adapterScale, type LoraAdapter } from "./adapter.ts"

/** The program layout of an adapter. */
export const programLora = (adapter: LoraAdapter): ProgramLora => ({
  rank: adapter.config.r,
  alpha: adapter.config.alpha,
  targets: adapter.config.targetModules,
  scale: adapterScale(adapter)
})

/** The adapter's matrices as host feeds. */
export const adapterFeeds = (adapter: LoraAdapter): Record<string, HostTensor> => {
  const feeds: Record<string, HostTensor> = {}
  for (const pair of adapter.pairs.values()) {
    feeds[`${pair.module}.lora_A.weight`] = { dtype: "float32", shape: [adapter.config.r, pair.inFeatures], data: pair.a }
    feeds[`${pair.module}.lora_B.weight`] = { dtype: "float32", shape: [pair.outFeatures, adapter.config.r], data: pair.b }
  }
  return feeds
}
