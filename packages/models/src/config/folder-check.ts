/**
 * A synchronous, cheap look into a Llama-family model folder for `validate`:
 * the required files are there and `config.json` parses, with sizes this
 * machine can hold (weights × the runtime factor within its memory). Nothing is allocated from the config's numbers, so a
 * `num_hidden_layers: 1e9` is a recipe problem (exit 2) found before a run
 * starts, not a heap crash.
 */
import { existsSync, readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { Effect, Result } from "effect"
import { checkFolderFitsMachine } from "../memory/folder-estimate.ts"
import { NARROWEST_BYTES_PER_WEIGHT, parseLlamaConfig } from "./llama-config.ts"

/** What is wrong with the folder and how to fix it, or undefined when it looks loadable. */
export interface FolderProblem {
  readonly problem: string
  readonly fix: string
}

/**
 * Checks `folder` for `config.json`, weights and `tokenizer.json`, and parses the config.
 *
 * @example
 * ```ts
 * import { checkLlamaFolder } from "@refine-af/models"
 * const found = checkLlamaFolder("/models/tiny-llama")
 * if (found !== undefined) console.error(found.problem, found.fix)
 * ```
 */
export const checkLlamaFolder = (folder: string): FolderProblem | undefined => {
  const has = (name: string) => existsSync(nodePath.join(folder, name))
  const missing = [
    ...(has("config.json") ? [] : ["config.json"]),
    ...(has("model.safetensors") || has("model.safetensors.index.json") ? [] : ["model.safetensors (or model.safetensors.index.json)"]),
    ...(has("tokenizer.json") ? [] : ["tokenizer.json"])
  ]
  if (missing.length > 0) {
    return { problem: `${folder} is not a Hugging Face model folder: it has no ${missing.join(", ")}`, fix: "point it at a downloaded model folder (refine-af models pull <owner/name>), or use builtin: speaker" }
  }
  const configPath = nodePath.join(folder, "config.json")
  let json: unknown
  try {
    json = JSON.parse(readFileSync(configPath, "utf8"))
  } catch (cause) {
    return { problem: `${configPath} is not readable JSON (${String(cause)})`, fix: "re-download the model folder" }
  }
  const parsed = Effect.runSync(Effect.result(parseLlamaConfig(configPath, json)))
  // Refused here only when not even int4 fits; the load checks the chosen precision (InsufficientMemoryError).
  if (Result.isSuccess(parsed)) return checkFolderFitsMachine(folder, "model", NARROWEST_BYTES_PER_WEIGHT / 4)
  const error = parsed.failure
  return {
    problem: error.message,
    fix: error._tag === "UnsupportedArchitectureError"
      ? "use a llama, mistral or qwen2 checkpoint"
      : "fix the fields listed in config.json (it must belong to these weights; compare with the model card)"
  }
}
