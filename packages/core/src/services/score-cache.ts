/**
 * A content-addressed cache of scores, shared by every scorer: a sample's key is
 * the sha256 of its canonical JSON, a scorer's file is named by the sha256 of
 * its identity (component, options, model content id), so a re-run — or a PPO
 * step that meets the same completion again — re-scores nothing, and a changed
 * model or option never reads stale scores.
 *
 * On disk: `<cacheDir>/scores/<scorer hash>.jsonl`, one `{"k","s"}` line per
 * scored sample, appended after each batch. A torn last line (kill -9) is
 * skipped on the next load. Without a folder the cache lives in memory only.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { openScoreCache, scoreThroughCache, type Sample } from "@refine-af/core"
 * const cache = openScoreCache({ scorerId: "length-v1" })
 * const scored = scoreThroughCache(cache, [{ instruction: "i", input: "", output: "o" }], (missing: ReadonlyArray<Sample>) =>
 *   Effect.succeed(missing.map((s) => ({ value: s.output.length }))))
 * ```
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { canonicalJson, sha256 } from "../run/hash.ts"
import type { Sample, Score } from "./Scorer.ts"

/** Scores already computed by one scorer identity. */
export interface ScoreCache {
  /** The file backing the cache, or undefined for an in-memory cache. */
  readonly file: string | undefined
  readonly lookup: (sample: Sample) => Score | undefined
  readonly store: (scored: ReadonlyArray<readonly [Sample, Score]>) => void
  /** Lookups answered from the cache / not, since the cache was opened. */
  readonly stats: () => { readonly hits: number; readonly misses: number }
}

/** The key of a sample: sha256 of its canonical JSON. */
export const sampleKey = (sample: Sample): string =>
  sha256(canonicalJson({ instruction: sample.instruction, input: sample.input, output: sample.output }))

const isScore = (value: unknown): value is Score =>
  typeof value === "object" && value !== null && typeof (value as { value?: unknown }).value === "number"

const load = (file: string, into: Map<string, Score>): void => {
  if (!fs.existsSync(file)) return
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.length === 0) continue
    try {
      const entry = JSON.parse(line) as { k?: unknown; s?: unknown }
      if (typeof entry.k === "string" && isScore(entry.s)) into.set(entry.k, entry.s)
    } catch {
      // a torn line from an interrupted append: that sample is scored again
    }
  }
}

/**
 * Opens (or creates) the cache of one scorer. `scorerId` must change whenever
 * the scores would (model weights, options, code version).
 */
export const openScoreCache = (options: { readonly scorerId: string; readonly cacheDir?: string | undefined }): ScoreCache => {
  const entries = new Map<string, Score>()
  const file = options.cacheDir === undefined ? undefined : path.join(options.cacheDir, "scores", `${sha256(options.scorerId).slice(0, 40)}.jsonl`)
  if (file !== undefined) load(file, entries)
  let hits = 0
  let misses = 0
  let writable = file !== undefined
  return {
    file,
    lookup: (sample) => {
      const found = entries.get(sampleKey(sample))
      if (found === undefined) misses++
      else hits++
      return found
    },
    store: (scored) => {
      const lines: Array<string> = []
      for (const [sample, score] of scored) {
        const key = sampleKey(sample)
        entries.set(key, score)
        lines.push(JSON.stringify({ k: key, s: score }))
      }
      if (!writable || file === undefined || lines.length === 0) return
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true })
        fs.appendFileSync(file, `${lines.join("\n")}\n`)
      } catch {
        writable = false // a read-only cache folder costs re-scoring, never a failed run
      }
    },
    stats: () => ({ hits, misses })
  }
}

/**
 * Scores `samples` through `cache`: only samples not cached (and each distinct
 * one once) go to `scoreMissing`; results come back in sample order.
 */
export const scoreThroughCache = <E>(
  cache: ScoreCache,
  samples: ReadonlyArray<Sample>,
  scoreMissing: (missing: ReadonlyArray<Sample>) => Effect.Effect<ReadonlyArray<Score>, E>
): Effect.Effect<ReadonlyArray<Score>, E> =>
  Effect.gen(function*() {
    const results: Array<Score | undefined> = samples.map((sample) => cache.lookup(sample))
    const missingByKey = new Map<string, { sample: Sample; rows: Array<number> }>()
    results.forEach((score, row) => {
      if (score !== undefined) return
      const key = sampleKey(samples[row]!)
      const group = missingByKey.get(key)
      if (group === undefined) missingByKey.set(key, { sample: samples[row]!, rows: [row] })
      else group.rows.push(row)
    })
    if (missingByKey.size > 0) {
      const groups = [...missingByKey.values()]
      const scored = yield* scoreMissing(groups.map((group) => group.sample))
      groups.forEach((group, index) => {
        for (const row of group.rows) results[row] = scored[index]!
      })
      cache.store(groups.map((group, index) => [group.sample, scored[index]!] as const))
    }
    return results as ReadonlyArray<Score>
  })
