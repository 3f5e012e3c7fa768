/**
 * The `seeds` option: a local JSONL path, a `{ url, sha256 }` pin, or absent
 * for the plugin's own offline seed set (`data/seed_tasks.jsonl`).
 *
 * @example
 * ```yaml
 * seeds:
 *   url: https://raw.githubusercontent.com/yizhongw/self-instruct/main/data/seed_tasks.jsonl
 *   sha256: 7779004fa198fdf27cf70a159363879d8a26c53329e11b436af17b3941875f48
 * ```
 */
import { fileURLToPath } from "node:url"
import { Effect, Schema } from "effect"
import { RecipePath } from "@refine-af/core"
import type { SelfInstructError } from "../errors.ts"
import { defaultCacheDir, fetchPinned } from "./fetchPinned.ts"
import { readSeedFile } from "./readSeeds.ts"
import type { SeedTask } from "./SeedTask.ts"

/** A URL pinned by sha256. */
export const PinnedSeedUrl = Schema.Struct({
  url: Schema.String.check(Schema.isPattern(/^https?:\/\//)).annotate({ description: "http(s) URL of a JSONL seed file, downloaded once into the cache folder." }),
  sha256: Schema.String.check(Schema.isPattern(/^[0-9a-fA-F]{64}$/)).annotate({ description: "Expected SHA-256 of the download (hex); a mismatch is an error." })
})

/** Option schema for `seeds`. */
export const SeedSource = Schema.Union([RecipePath("file", "JSONL seed file, relative to the recipe's folder"), PinnedSeedUrl])
/** A decoded `seeds` option. */
export type SeedSource = typeof SeedSource.Type

/** Absolute path of the plugin's bundled offline seed set. */
export const builtinSeedPath: string = fileURLToPath(new URL("../../data/seed_tasks.jsonl", import.meta.url))

/** Loads the seed tasks a stage's options point at. */
export const loadSeedTasks = (
  source: SeedSource | undefined,
  cacheDir: string | undefined
): Effect.Effect<ReadonlyArray<SeedTask>, SelfInstructError> =>
  source === undefined
    ? readSeedFile(builtinSeedPath)
    : typeof source === "string"
      ? readSeedFile(source)
      : fetchPinned(source, cacheDir ?? defaultCacheDir()).pipe(Effect.flatMap(readSeedFile))
