/**
 * The memory check of a Hugging Face model folder from its `config.json`
 * alone (no weights read): Llama family, GPT-NeoX and T5. `validate` checks
 * against the machine's memory (exit 2 for a model that can never fit);
 * loading checks against the memory available at that moment.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ensureFolderFits } from "@refine-af/models"
 * const check = ensureFolderFits("/models/llama-2-7b", "model-llama")
 * ```
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { totalmem } from "node:os"
import * as nodePath from "node:path"
import { parseLlamaConfig } from "../config/llama-config.ts"
import { gptNeoXTrunkWeights, parseGptNeoXConfig } from "../gpt-neox/config.ts"
import { expectedWeights } from "../llama/weights.ts"
import { parseT5Config, t5Weights } from "../t5/config.ts"
import { availableMemory } from "./available.ts"
import { float32Bytes, InsufficientMemoryError, memoryShortfall } from "./check.ts"

/** Float32 weight bytes a folder's config implies; undefined when config.json is unreadable or of another architecture (other checks report that). */
export const folderWeightBytes = (folder: string): number | undefined => {
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(readFileSync(nodePath.join(folder, "config.json"), "utf8")) as Record<string, unknown>
  } catch {
    return undefined
  }
  try {
    if (raw.model_type === "gpt_neox") {
      const config = parseGptNeoXConfig(raw, folder)
      return float32Bytes(gptNeoXTrunkWeights(config))
    }
    if (raw.model_type === "t5") return float32Bytes(t5Weights(parseT5Config(raw, folder)))
    const llama = Effect.runSync(Effect.option(parseLlamaConfig(nodePath.join(folder, "config.json"), raw)))
    return llama._tag === "Some" ? float32Bytes(expectedWeights(llama.value)) : undefined
  } catch {
    return undefined
  }
}

/**
 * `validate`'s check: the problem when the folder's model needs more than this
 * machine's memory at the narrowest precision it can be held in
 * (`weightScale`, relative to float32: 1 for scorers, which run in float32;
 * int4's for Llama models, whose `precision` option is judged at load).
 */
export const checkFolderFitsMachine = (folder: string, what: string, weightScale = 1): { readonly problem: string; readonly fix: string } | undefined => {
  const float32 = folderWeightBytes(folder)
  if (float32 === undefined) return undefined
  const shortfall = memoryShortfall({ what: `${what}: ${folder}`, weightBytes: float32 * weightScale, float32Bytes: float32, availableBytes: totalmem(), source: "this machine's memory" })
  return shortfall === undefined ? undefined : { problem: shortfall.message, fix: "pick a smaller model, a reduced weight precision, or a machine with more memory" }
}

/**
 * Load time's check, before any weight is read: fails with
 * `InsufficientMemoryError` when the model needs more than `budgetBytes`
 * (default: the memory available now, cgroup limit included).
 * `weightScale` is the stored size relative to float32 (0.5 for float16,
 * about 0.28 / 0.16 for block-wise int8 / int4 with their scales).
 */
export const ensureFolderFits = (folder: string, what: string, budgetBytes?: number, weightScale = 1): Effect.Effect<void, InsufficientMemoryError> =>
  Effect.suspend(() => {
    const float32 = folderWeightBytes(folder)
    if (float32 === undefined) return Effect.void
    const weightBytes = float32 * weightScale
    const available = budgetBytes !== undefined ? { bytes: budgetBytes, source: "the memory budget" } : availableMemory()
    const shortfall = memoryShortfall({ what: `${what}: ${folder}`, weightBytes, float32Bytes: float32, availableBytes: available.bytes, source: available.source })
    return shortfall === undefined
      ? Effect.void
      : Effect.fail(new InsufficientMemoryError({ path: folder, neededBytes: shortfall.neededBytes, availableBytes: available.bytes, message: shortfall.message }))
  })
