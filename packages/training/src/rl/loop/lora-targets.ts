/**
 * A LoRA target the model lacks is a recipe mistake: name the option and the
 * model's own module list before a session is opened.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { checkLoraTargets, defaultLoraConfig } from "@refine-af/training"
 * Effect.runSync(checkLoraTargets("ppo", { id: "m", loraTargets: ["q_proj", "v_proj"] }, defaultLoraConfig))
 * ```
 */
import { Effect } from "effect"
import { StageError } from "@refine-af/core"
import type { LoraConfig } from "../../lora.ts"
import type { PolicyModelInfo } from "../../policy-model.ts"

/** Fails naming `lora.targets`, the unknown names and the model's modules. */
export const checkLoraTargets = (stage: string, info: Pick<PolicyModelInfo, "id" | "loraTargets">, lora: LoraConfig): Effect.Effect<void, StageError> => {
  const unknown = lora.targets.filter((t) => !info.loraTargets.includes(t))
  return unknown.length === 0
    ? Effect.void
    : Effect.fail(new StageError({ stage, message: `option lora.targets: ${JSON.stringify(unknown)} ${unknown.length === 1 ? "is not a module" : "are not modules"} of ${info.id}`, fix: `use some of ${info.loraTargets.join(", ")}` }))
}
