/**
 * Test helper: the seeded tiny models from tools/tiny-model, generated once
 * per machine into the temp folder by running the maker's CLI (plugins may not
 * import tools), keyed by a hash of the maker's source so edits regenerate.
 */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import type { TinyPresetName } from "@refine-af/models"
import { fileURLToPath } from "node:url"

/** The repository root (three levels above this file's folder). */
export const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "../../../..")

const makerDir = nodePath.join(repoRoot, "tools/tiny-model")

/** Builds (or reuses) a tiny model folder and returns its path. */
export const tinyModel = (preset: TinyPresetName, options: { seed?: number; dtype?: "F32" | "F16" | "BF16"; set?: Record<string, unknown> } = {}): string => {
  const seed = options.seed ?? 0
  const dtype = options.dtype ?? "F32"
  const sets = Object.entries(options.set ?? {}).flatMap(([key, value]) => ["--set", `${key}=${JSON.stringify(value)}`])
  const hash = createHash("sha256")
  // The CLI delegates to @refine-af/models' tiny-model writer, so both sources key the cache.
  const builtinDir = nodePath.join(repoRoot, "packages/models/src/tiny")
  for (const file of readdirSync(makerDir).filter((f) => f.endsWith(".ts")).sort()) hash.update(readFileSync(nodePath.join(makerDir, file)))
  for (const file of readdirSync(builtinDir).filter((f) => f.endsWith(".ts")).sort()) hash.update(readFileSync(nodePath.join(builtinDir, file)))
  hash.update(JSON.stringify([preset, seed, dtype, sets]))
  const folder = nodePath.join(tmpdir(), "refine-af-tiny-models", hash.digest("hex").slice(0, 16))
  if (existsSync(nodePath.join(folder, "tokenizer_config.json"))) return folder
  // Build beside the final folder and rename, so a concurrent test never sees a half-written model.
  const staging = `${folder}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  execFileSync(nodePath.join(repoRoot, "node_modules/.bin/tsx"), [
    nodePath.join(makerDir, "make-tiny-model.ts"), "--preset", preset, "--out", staging, "--seed", String(seed), "--dtype", dtype, ...sets
  ], { stdio: "pipe" })
  try {
    renameSync(staging, folder)
  } catch {
    rmSync(staging, { recursive: true, force: true })
  }
  return folder
}
