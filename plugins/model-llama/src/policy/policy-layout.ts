/**
 * Host feeds of a policy batch. Sequences are left-padded to a length bucket
 * (batch padded to a power of two with empty rows); the logit at padded
 * position j predicts the token at j + 1, so completion token k of a sequence
 * with n tokens sits at position (L − n) + promptLength + k − 1.
 *
 * Left padding puts every completion at the end of its row, so the heads are
 * computed on the last W positions only (the window, TRL's `logits_to_keep`):
 * W is the multiple of 16 (≤ L) that holds the longest completion + 1.
 * Prompt positions run through the trunk (the completions attend to them) but
 * never through the LM head, whose [batch, positions, vocab] logits, softmax
 * and backward dominate a training step's time and memory at a large
 * vocabulary (151,669 tokens on the built-in qwen2 preset: a 64-token prompt
 * with a 24-token completion computes 3.5× fewer logits). Targets, the
 * completion mask and every per-token feed are [batch, W]; completion token k
 * sits at column W − n + promptLength + k − 1 of them.
 *
 * Shared prompts: when several rows complete the same prompt (GRPO / RLOO
 * groups, PPO's rollouts per prompt) and running each distinct prompt once
 * saves at least a quarter of the positions, the rows hold only their last
 * prompt token and their completion (right-padded to W columns, so completion
 * token k sits at column k), and the prompts, without their last token, run
 * once each as a stream of their own (`sharedPrompt` of `llamaTrunk`; the rows
 * attend to their prompt's keys and values like a decode step to its cache).
 * Same positions, same visible keys: the heads equal the unshared layout's up
 * to rounding, and so do the gradients (test/policy-shared-prompt.test.ts).
 */
import type { HostTensor } from "@refine-af/tensor"
import { completionLength, type TokenSequence } from "@refine-af/training"
import { batchBucket, lengthBucket, windowBucket, windowColumn } from "../generation/buckets.ts"
import { sharedPromptBatch } from "../model/shared-prompt.ts"
import { leftPadRows, makeStepFeeds, stepNames } from "@refine-af/models"
import type { LlamaRuntime } from "../model/runtime.ts"
import { policyNames, type PolicyShape } from "./policy-program.ts"

export interface PolicyLayout {
  readonly shape: PolicyShape
  /** Column of completion token k of sequence i in the [batch, window] heads and feeds. */
  readonly column: (i: number, k: number) => number
  /** Trunk inputs, targets and the completion mask. */
  readonly feeds: Record<string, HostTensor>
  /** Completion tokens in the batch. */
  readonly tokens: number
}

/**
 * The batch's layout. `window: "full"` computes the heads on every position
 * (the layout before windows; tests compare the two); `sharePrompts` lets
 * rows of the same prompt share it where that saves work (see the module comment).
 */
export const policyLayout = (runtime: LlamaRuntime, batch: ReadonlyArray<TokenSequence>, options: { readonly window?: "fit" | "full"; readonly sharePrompts?: boolean } = {}): PolicyLayout => {
  const length = lengthBucket(Math.max(...batch.map((s) => s.tokens.length)))
  const window = options.window === "full" ? length : windowBucket(Math.max(...batch.map(completionLength)), length)
  if (options.sharePrompts === true && options.window !== "full") {
    const shared = sharedPromptLayout(runtime, batch, length)
    if (shared !== undefined) return shared
  }
  const shape = { batch: batchBucket(batch.length), length, window }
  const column = (i: number, k: number) => windowColumn(window, batch[i]!.tokens.length, batch[i]!.promptLength + k)
  const rows = leftPadRows(batch.map((s) => s.tokens), shape.length, runtime.padTokenId, 0)
  return withTargets(runtime, batch, shape, column, makeStepFeeds(runtime.config, runtime.frequencies, { ...shape, cache: 0 }, rows, runtime.padTokenId))
}

/** Targets and the completion mask [batch, window] added to the trunk feeds. */
const withTargets = (runtime: LlamaRuntime, batch: ReadonlyArray<TokenSequence>, shape: PolicyShape, column: PolicyLayout["column"], trunkFeeds: Record<string, HostTensor>): PolicyLayout => {
  const { window } = shape
  const targets = new BigInt64Array(shape.batch * window).fill(BigInt(runtime.padTokenId))
  const mask = new Float32Array(shape.batch * window)
  let tokens = 0
  batch.forEach((s, i) => {
    for (let k = 0; k < completionLength(s); k++) {
      const at = i * window + column(i, k)
      targets[at] = BigInt(s.tokens[s.promptLength + k]!)
      mask[at] = 1
      tokens++
    }
  })
  return {
    shape,
    column,
    tokens,
    feeds: {
      ...trunkFeeds,
      [stepNames.targets]: { dtype: "int64", shape: [shape.batch, window], data: targets },
      [policyNames.completionMask]: { dtype: "float32", shape: [shape.batch, window], data: mask }
    }
  }
}

/** The shared-prompt layout of `batch` (see the module comment), or undefined where sharing would not pay. */
const sharedPromptLayout = (runtime: LlamaRuntime, batch: ReadonlyArray<TokenSequence>, length: number): PolicyLayout | undefined => {
  const shared = sharedPromptBatch(runtime, batch, length)
  if (shared === undefined) return undefined
  const shape = { batch: shared.batch, length: shared.part, window: shared.part, prompts: shared.prompts }
  return withTargets(runtime, batch, shape, (_i, k) => k, shared.feeds)
}

/** Places per-completion-token rows into a [batch, window] float32 feed. */
export const placeFeed = (layout: PolicyLayout, rows: ReadonlyArray<ReadonlyArray<number>>): HostTensor => {
  const { batch, window } = layout.shape
  const data = new Float32Array(batch * window)
  rows.forEach((row, i) => row.forEach((x, k) => void (data[i * window + layout.column(i, k)] = x)))
  return { dtype: "float32", shape: [batch, window], data }
}

/** Reads sequence i's completion values out of a [batch, window] output. */
export const readRow = (layout: PolicyLayout, data: ArrayLike<number>, i: number, count: number): Array<number> =>
  Array.from({ length: count }, (_, k) => data[i * layout.shape.window + layout.column(i, k)]!)
