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
 * const check = ensureFolderFits("/models/llama-2-7b", "model-llama", undefined, "int4")
 * ```
 */
import type { WeightScheme } from "@refine-af/tensor"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { totalmem } from "node:os"
import * as nodePath from "node:path"
import { parseLlamaConfig } from "../config/llama-config.ts"
import { gptNeoXTrunkWeights, parseGptNeoXConfig } from "../gpt-neox/config.ts"
import { DEFAULT_BLOCK_SIZE, llamaWeightBytes, type WeightPrecision } from "../llama/stored-precision.ts"
import { parseT5Config, t5Weights } from "../t5/config.ts"
import { availableMemory } from "./available.ts"
import { float32Bytes, InsufficientMemoryError, type MemoryCheck, memoryShortfall, REDUCED_BYTES_PER_WEIGHT } from "./check.ts"

/** The folder's parsed config.json, or undefined when it is unreadable (other checks report that). */
const readConfig = (folder: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(readFileSync(nodePath.join(folder, "config.json"), "utf8")) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/**
 * The weights' bytes a folder's config implies: at float32, at `precision`
 * and at each precision narrower than it. Llama-family folders are counted
 * weight by weight as model-llama holds them ({@link llamaWeightBytes}: int
 * projections with their scales, embeddings / LM head / norms float32);
 * GPT-NeoX and T5 (scorers, float32 only) by their float32 bytes, a narrower
 * precision estimated per weight. Undefined when config.json is unreadable or
 * of another architecture.
 */
const folderSizes = (folder: string, precision: WeightPrecision, blockSize: number): Pick<MemoryCheck, "weightBytes" | "float32Bytes" | "narrower"> | undefined => {
  const raw = readConfig(folder)
  if (raw === undefined) return undefined
  try {
    if (raw.model_type === "gpt_neox") return scaled(float32Bytes(gptNeoXTrunkWeights(parseGptNeoXConfig(raw, folder))), precision)
    if (raw.model_type === "t5") return scaled(float32Bytes(t5Weights(parseT5Config(raw, folder))), precision)
    const llama = Effect.runSync(Effect.option(parseLlamaConfig(nodePath.join(folder, "config.json"), raw)))
    if (llama._tag === "None") return undefined
    const at = (p: WeightPrecision) => llamaWeightBytes(llama.value, p, blockSize)
    return { weightBytes: at(precision), float32Bytes: at("float32"), narrower: narrowerThan(precision).map((p) => [p, at(p)] as const) }
  } catch {
    return undefined
  }
}

/** The precisions narrower than `precision`, widest first. */
const narrowerThan = (precision: WeightPrecision): ReadonlyArray<WeightScheme> => (["float16", "int8", "int4"] as const).filter((p) => REDUCED_BYTES_PER_WEIGHT[p] < REDUCED_BYTES_PER_WEIGHT[precision])

/** A non-Llama folder's sizes: every weight at the precision's bytes (only float32 is asked for). */
const scaled = (float32: number, precision: WeightPrecision): Pick<MemoryCheck, "weightBytes" | "float32Bytes" | "narrower"> => ({
  weightBytes: (float32 / 4) * REDUCED_BYTES_PER_WEIGHT[precision],
  float32Bytes: float32,
  narrower: narrowerThan(precision).map((p) => [p, (float32 / 4) * REDUCED_BYTES_PER_WEIGHT[p]] as const)
})

/** Float32 weight bytes a folder's config implies; undefined when config.json is unreadable or of another architecture (other checks report that). */
export const folderWeightBytes = (folder: string): number | undefined => folderSizes(folder, "float32", DEFAULT_BLOCK_SIZE)?.float32Bytes

/**
 * `validate`'s check: the problem when the folder's model needs more than this
 * machine's memory at `precision` — float32 for scorers, which run so; int4
 * for Llama models, the narrowest they can be held in (their `precision`
 * option is judged at load).
 */
export const checkFolderFitsMachine = (folder: string, what: string, precision: WeightPrecision = "float32"): { readonly problem: string; readonly fix: string } | undefined => {
  const sizes = folderSizes(folder, precision, DEFAULT_BLOCK_SIZE)
  if (sizes === undefined) return undefined
  const shortfall = memoryShortfall({ what: `${what}: ${folder}`, ...sizes, availableBytes: totalmem(), source: "this machine's memory" })
  return shortfall === undefined ? undefined : { problem: shortfall.message, fix: "pick a smaller model, a reduced weight precision, or a machine with more memory" }
}

/**
 * Load time's check, before any weight is read: fails with
 * `InsufficientMemoryError` when the model at `precision` (int8 / int4 with
 * blocks of `blockSize`) needs more than `budgetBytes` (default: the memory
 * available now, cgroup limit included).
 */
export const ensureFolderFits = (folder: string, what: string, budgetBytes?: number, precision: WeightPrecision = "float32", blockSize = DEFAULT_BLOCK_SIZE): Effect.Effect<void, InsufficientMemoryError> =>
  Effect.suspend(() => {
    const sizes = folderSizes(folder, precision, blockSize)
    if (sizes === undefined) return Effect.void
    const available = budgetBytes !== undefined ? { bytes: budgetBytes, source: "the memory budget" } : availableMemory()
    const shortfall = memoryShortfall({ what: `${what}: ${folder}`, ...sizes, availableBytes: available.bytes, source: available.source })
    return shortfall === undefined
      ? Effect.void
      : Effect.fail(new InsufficientMemoryError({ path: folder, neededBytes: shortfall.neededBytes, availableBytes: available.bytes, message: shortfall.message }))
  })
