/**
 * A synchronous, cheap look into a Llama-family model folder for `validate`:
 * the required files are there, `config.json` parses, with sizes this
 * machine can hold (weights × the runtime factor within its memory),
 * `tokenizer.json` is JSON, and each safetensors file's header is sound with
 * every tensor inside the file (a truncated download is found here, not
 * minutes into a run). Nothing is allocated from the config's numbers, so a
 * `num_hidden_layers: 1e9` is a recipe problem (exit 2) found before a run
 * starts, not a heap crash.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs"
import * as nodePath from "node:path"
import { Effect, Result } from "effect"
import { checkFolderFitsMachine } from "../memory/folder-estimate.ts"
import type { SafetensorsFormatError } from "../safetensors/errors.ts"
import { parseHeader, parseHeaderLength } from "../safetensors/header.ts"
import { parseShardIndex } from "../safetensors/sharded.ts"
import { parseLlamaConfig, SUPPORTED_MODEL_TYPES } from "./llama-config.ts"

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
  if (Result.isSuccess(parsed)) return checkFolderFitsMachine(folder, "model", "int4") ?? checkTokenizerFile(folder) ?? checkWeightFiles(folder)
  const error = parsed.failure
  return {
    problem: error.message,
    fix: error._tag === "UnsupportedArchitectureError"
      ? `use a ${SUPPORTED_MODEL_TYPES.join(", ")} checkpoint`
      : "fix the fields listed in config.json (it must belong to these weights; compare with the model card)"
  }
}

const redownload = "download the model folder again (refine-af models pull <owner/name> verifies sizes and hashes), or copy the file again from where it came"

/** `tokenizer.json` must be whole JSON (a cut-off copy otherwise fails the load after the weights). */
const checkTokenizerFile = (folder: string): FolderProblem | undefined => {
  const path = nodePath.join(folder, "tokenizer.json")
  try {
    JSON.parse(readFileSync(path, "utf8"))
    return undefined
  } catch (cause) {
    return { problem: `${path} is not readable JSON (${cause instanceof Error ? cause.message : String(cause)}): the file is truncated or damaged`, fix: redownload }
  }
}

/** The safetensors files the folder's weights are in (the shards the index names, read as the load reads it), or the single file. */
const weightFiles = (folder: string): Result.Result<Array<string>, SafetensorsFormatError> => {
  const index = nodePath.join(folder, "model.safetensors.index.json")
  if (!existsSync(index)) return Result.succeed([nodePath.join(folder, "model.safetensors")])
  return Effect.runSync(Effect.result(Effect.map(parseShardIndex(index, readFileSync(index, "utf8")), (map) => [...new Set(map.values())].map((file) => nodePath.join(folder, file)))))
}

/** Each safetensors file: its header parses and every tensor lies inside the file (reads only the headers). */
const checkWeightFiles = (folder: string): FolderProblem | undefined => {
  const files = weightFiles(folder)
  if (Result.isFailure(files)) return { problem: files.failure.message, fix: redownload }
  for (const file of files.success) {
    if (!existsSync(file)) return { problem: `${file} is missing (named by model.safetensors.index.json)`, fix: redownload }
    const fd = openSync(file, "r")
    try {
      const size = fstatSync(fd).size
      const prefix = new Uint8Array(8)
      readSync(fd, prefix, 0, 8, 0)
      const checked = Effect.runSync(Effect.result(Effect.flatMap(parseHeaderLength(file, prefix, size), (length) => {
        const header = new Uint8Array(length)
        readSync(fd, header, 0, length, 8)
        return parseHeader(file, header, size)
      })))
      if (Result.isFailure(checked)) return { problem: checked.failure.message, fix: redownload }
    } finally {
      closeSync(fd)
    }
  }
  return undefined
}
