/**
 * Downloads a file once, verifies it against a pinned sha256 and keeps it in a
 * content-addressed cache folder (`<cacheDir>/<sha256>`). Later runs, offline
 * ones included, read the cached copy after re-verifying it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { fetchPinned } from "./fetchPinned.ts"
 * const path = Effect.runPromise(fetchPinned({ url: "https://example.org/seeds.jsonl", sha256: "ab".repeat(32) }, "/tmp/cache"))
 * ```
 */
import { createHash } from "node:crypto"
import { mkdir, readFile, rename, writeFile } from "node:fs/promises"
import { homedir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { SeedChecksumMismatch, SeedDownloadFailed } from "../errors.ts"

/** A remote file pinned by the sha256 of its bytes (64 lowercase hex digits). */
export interface PinnedUrl {
  readonly url: string
  readonly sha256: string
}

/** Where downloads are cached unless a stage says otherwise: `$REFINE_AF_CACHE_DIR` or `~/.cache/refine-af/downloads`. */
export const defaultCacheDir = (): string =>
  process.env["REFINE_AF_CACHE_DIR"] ?? join(homedir(), ".cache", "refine-af", "downloads")

const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

const readIfValid = (path: string, sha256: string): Effect.Effect<boolean> =>
  Effect.promise(() =>
    readFile(path).then(
      (bytes) => sha256Hex(bytes) === sha256,
      () => false
    )
  )

/** Returns the local path of `pinned`, downloading it into `cacheDir` first when no verified copy is cached. */
export const fetchPinned = (
  pinned: PinnedUrl,
  cacheDir: string,
  timeoutMs = 60_000
): Effect.Effect<string, SeedDownloadFailed | SeedChecksumMismatch> =>
  Effect.gen(function* () {
    const expected = pinned.sha256.toLowerCase()
    const cached = join(cacheDir, expected)
    if (yield* readIfValid(cached, expected)) return cached
    const failed = (problem: string) =>
      new SeedDownloadFailed({
        url: pinned.url,
        message: `cannot download ${pinned.url}: ${problem}. Fix: check the network, or download the file yourself and point "seeds" at its local path (or place it at ${cached}).`
      })
    const bytes = yield* Effect.tryPromise({
      try: async () => {
        const response = await fetch(pinned.url, { signal: AbortSignal.timeout(timeoutMs) })
        if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`)
        return new Uint8Array(await response.arrayBuffer())
      },
      catch: (error) => failed((error as Error).message)
    })
    const actual = sha256Hex(bytes)
    if (actual !== expected) {
      return yield* new SeedChecksumMismatch({
        url: pinned.url,
        expected,
        actual,
        message: `${pinned.url} has sha256 ${actual}, but the recipe pins ${expected}. Fix: if the file changed upstream on purpose, review it and update the pinned sha256; otherwise the download is corrupt or tampered with.`
      })
    }
    // Write beside the final name, then rename: a killed download never leaves a half file under the pinned name.
    const partial = `${cached}.${process.pid}.partial`
    yield* Effect.tryPromise({
      try: async () => {
        await mkdir(cacheDir, { recursive: true })
        await writeFile(partial, bytes)
        await rename(partial, cached)
      },
      catch: (error) => failed(`cannot write the cache folder ${cacheDir} (${(error as Error).message})`)
    })
    return cached
  })
