/**
 * Test helper: seeded tiny model folders written by this package's own
 * `writeTinyModel`, once per machine into the temp folder, keyed by a hash of
 * the writer's sources so an edit regenerates them.
 */
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { writeTinyModel, type TinyModelDtype, type TinyPresetName } from "../../src/index.ts"

/** The repository root (four levels above this file's folder). */
export const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "../../../..")

const sourceDirs = ["tiny", "safetensors"].map((dir) => nodePath.join(repoRoot, "packages/models/src", dir))

/** Builds (or reuses) a tiny model folder and returns its path. */
export const tinyModel = async (
  preset: TinyPresetName,
  options: { seed?: number; dtype?: TinyModelDtype; set?: Record<string, unknown> } = {}
): Promise<string> => {
  const seed = options.seed ?? 0
  const dtype = options.dtype ?? "F32"
  const hash = createHash("sha256")
  for (const dir of sourceDirs) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts")).sort()) hash.update(readFileSync(nodePath.join(dir, file)))
  }
  hash.update(JSON.stringify([preset, seed, dtype, options.set ?? {}]))
  const folder = nodePath.join(tmpdir(), "refine-af-models-tiny", hash.digest("hex").slice(0, 16))
  if (existsSync(nodePath.join(folder, "tokenizer_config.json"))) return folder
  // Write beside the final folder and rename, so a concurrent test never sees a half-written model.
  const staging = `${folder}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  await Effect.runPromise(writeTinyModel({ out: staging, config: preset, seed, dtype, ...(options.set ? { overrides: options.set } : {}) }))
  try {
    renameSync(staging, folder)
  } catch {
    rmSync(staging, { recursive: true, force: true })
  }
  return folder
}
