/**
 * Trunk feeds for rows that share prompts (`sharedPrompt` of `llamaTrunk`):
 * each distinct prompt, without its last token, left-padded once; each row as
 * its last prompt token and what follows (right-padded), attending to its
 * prompt's keys and values like a decode step to its cache. Used by the policy
 * programs (`policy-layout.ts`) and the scoring path (`scoring.ts`: a judge's
 * " Yes" / " No" after one question, candidate labels after one input).
 */
import type { HostTensor } from "@refine-af/tensor"
import { leftPadRows, makeStepFeeds, stepNames } from "@refine-af/models"
import { batchBucket, distinctBy, lengthBucket } from "../generation/buckets.ts"
import type { LlamaRuntime } from "./runtime.ts"

/** A row: its tokens and how many of them are its prompt (≥ 1). */
export interface PromptedRow {
  readonly tokens: ReadonlyArray<number>
  readonly promptLength: number
}

/** Shared prompts serve a batch only when they cut its positions to at most this share of the unshared layout's. */
export const SHARED_PROMPT_MAX_SHARE = 0.75

/** The shapes and trunk feeds of a shared-prompt batch: rows of `part` columns (column j holds the token that predicts token promptLength + j). */
export interface SharedPromptBatch {
  readonly batch: number
  readonly part: number
  readonly prompts: { readonly count: number; readonly length: number }
  readonly feeds: Record<string, HostTensor>
}

/**
 * The shared-prompt feeds of `rows`, or undefined when they would not save
 * {@link SHARED_PROMPT_MAX_SHARE} of the positions of the unshared layout (every
 * row left-padded to `length`), or when a longrope model's row outgrows its
 * original context. Prompts are told apart by their tokens.
 */
export const sharedPromptBatch = (runtime: LlamaRuntime, rows: ReadonlyArray<PromptedRow>, length: number): SharedPromptBatch | undefined => {
  const { unique, of: promptOf } = distinctBy(rows, (r) => r.tokens.slice(0, r.promptLength).join(","))
  const prompts = unique.map((r) => r.tokens.slice(0, r.promptLength))
  // A row's part: its last prompt token (whose logit predicts its first token after the prompt) and those tokens.
  const part = lengthBucket(Math.max(...rows.map((r) => r.tokens.length - r.promptLength)) + 1)
  const promptLength = lengthBucket(Math.max(...prompts.map((p) => p.length - 1)))
  const batch = batchBucket(rows.length)
  const count = batchBucket(prompts.length)
  if (count * promptLength + batch * part > SHARED_PROMPT_MAX_SHARE * batch * length) return undefined
  const { config, frequencies, padTokenId } = runtime
  // longrope: a row longer than the original context rotates every position with the long factors,
  // its prompt included, so its prompt pass cannot be the one a shorter row reads: no sharing then.
  const beyond = frequencies.long?.beyond
  if (beyond !== undefined && rows.some((r) => r.tokens.length > beyond)) return undefined
  const promptRows = leftPadRows(prompts.map((p) => p.slice(0, -1)), promptLength, padTokenId, 0)
  const promptFeeds = makeStepFeeds(config, frequencies, { batch: count, length: promptLength, cache: 0 }, promptRows, padTokenId)
  const steps = rows.map((r, i) => {
    const tokens = r.tokens.slice(r.promptLength - 1)
    return {
      tokens,
      positions: [...tokens.map((_, j) => r.promptLength - 1 + j), ...new Array<number>(part - tokens.length).fill(-1)],
      cachePositions: promptRows[promptOf[i]!]!.positions
    }
  })
  const rowFeeds = makeStepFeeds(config, frequencies, { batch, length: part, cache: promptLength }, steps, padTokenId)
  const promptRow = new BigInt64Array(batch)
  promptOf.forEach((p, i) => void (promptRow[i] = BigInt(p)))
  return {
    batch,
    part,
    prompts: { count, length: promptLength },
    feeds: {
      ...rowFeeds,
      ...Object.fromEntries(Object.entries(promptFeeds).map(([name, t]) => [stepNames.prompt(name), t])),
      [stepNames.promptRow]: { dtype: "int64", shape: [batch], data: promptRow }
    }
  }
}
