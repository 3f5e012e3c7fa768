/**
 * Host-side inputs of a step program: token ids, rotary cos/sin per row and
 * position, and the attention masks. Keeping positions and visibility on the
 * host makes left padding, sliding windows, rope scaling and the sliding KV
 * cache plain bookkeeping instead of program variants.
 */
import type { HostTensor } from "@refine-af/tensor"
import { rotaryDim, type LlamaConfig } from "../config/llama-config.ts"
import { ropeFrequencies, rotaryTables, type RopeFrequencies } from "../config/rope.ts"
import { stepNames, usesLocalRope, usesWindowMask, type StepShape } from "./trunk.ts"

/** One row of a step: its new tokens and their positions (-1 = padding), and the positions held by its cache slots (-1 = empty). */
export interface RowStep {
  readonly tokens: ReadonlyArray<number>
  readonly positions: ReadonlyArray<number>
  readonly cachePositions: ReadonlyArray<number>
}

/** The sliding window shared by the windowed layers (null if none). */
const windowOf = (config: LlamaConfig): number | null => config.slidingWindowPerLayer.find((w) => w !== null) ?? null

/**
 * The main rotary frequencies of a model of this config (its rotating share of
 * each head, its rope scaling); `sequenceLength` only matters for dynamic NTK.
 */
export const configRopeFrequencies = (config: LlamaConfig, sequenceLength: number): RopeFrequencies =>
  ropeFrequencies(config.ropeScaling, config.ropeTheta, rotaryDim(config), config.maxPositionEmbeddings, sequenceLength)

/**
 * The frequencies of the sliding layers' own rotary table ({@link LlamaConfig.localRope}), or undefined
 * when every layer rotates with the main one. Dynamic NTK scaling, which would depend on the run's
 * length, is read at `maxPositionEmbeddings` (gemma3's local table is unscaled).
 */
export const localRopeFrequencies = (config: LlamaConfig): RopeFrequencies | undefined =>
  usesLocalRope(config) && config.localRope !== null
    ? ropeFrequencies(config.localRope.scaling, config.localRope.theta, rotaryDim(config), config.maxPositionEmbeddings, config.maxPositionEmbeddings)
    : undefined

/**
 * Feeds for rows (missing rows up to `shape.batch` are filled as padding).
 * Key visibility for a query at position q: the key holds a token (position
 * k ≥ 0), k ≤ q, and with a window w also q − k < w. A padding query sees
 * its own key only: no real query sees it, so nothing real changes, and no
 * row of the scores is fully masked — the programs mask by adding a bias
 * (`attentionBias`), and a fully masked row's softmax would be uniform in
 * value yet pass the (shift-invariant) gradient of its scores. Each row's
 * rotary tables follow its own newest position (longrope's short or long factors).
 */
export const makeStepFeeds = (config: LlamaConfig, frequencies: RopeFrequencies, shape: StepShape, rows: ReadonlyArray<RowStep>, padTokenId: number): Record<string, HostTensor> => {
  const { batch, length, cache } = shape
  const keys = cache + length
  const width = rotaryDim(config)
  const ids = new BigInt64Array(batch * length)
  const cos = new Float32Array(batch * length * width)
  const sin = new Float32Array(batch * length * width)
  const local = localRopeFrequencies(config)
  const cosLocal = local === undefined ? null : new Float32Array(batch * length * width)
  const sinLocal = local === undefined ? null : new Float32Array(batch * length * width)
  const mask = new Uint8Array(batch * length * keys)
  const window = windowOf(config)
  const maskWindow = usesWindowMask(config) ? new Uint8Array(batch * length * keys) : null
  for (let r = 0; r < batch; r++) {
    const row = rows[r]
    const positions = row?.positions ?? new Array<number>(length).fill(-1)
    const keyPositions = [...(row?.cachePositions ?? new Array<number>(cache).fill(-1)), ...positions]
    const clamped = positions.map((p) => Math.max(p, 0))
    const tables = rotaryTables(frequencies, clamped)
    cos.set(tables.cos, r * length * width)
    sin.set(tables.sin, r * length * width)
    if (local !== undefined) {
      const localTables = rotaryTables(local, clamped)
      cosLocal!.set(localTables.cos, r * length * width)
      sinLocal!.set(localTables.sin, r * length * width)
    }
    for (let i = 0; i < length; i++) {
      ids[r * length + i] = BigInt(row?.tokens[i] ?? padTokenId)
      const query = positions[i]!
      if (query < 0) {
        const own = (r * length + i) * keys + cache + i
        mask[own] = 1
        if (maskWindow) maskWindow[own] = 1
        continue
      }
      for (let j = 0; j < keys; j++) {
        const key = keyPositions[j]!
        if (key < 0 || key > query) continue
        const at = (r * length + i) * keys + j
        mask[at] = 1
        if (maskWindow && window !== null && query - key < window) maskWindow[at] = 1
      }
    }
  }
  const feeds: Record<string, HostTensor> = {
    [stepNames.inputIds]: { dtype: "int64", shape: [batch, length], data: ids },
    [stepNames.cos]: { dtype: "float32", shape: [batch, length, width], data: cos },
    [stepNames.sin]: { dtype: "float32", shape: [batch, length, width], data: sin },
    [stepNames.mask]: { dtype: "bool", shape: [batch, 1, length, keys], data: mask }
  }
  if (maskWindow) feeds[stepNames.maskWindow] = { dtype: "bool", shape: [batch, 1, length, keys], data: maskWindow }
  if (cosLocal && sinLocal) {
    feeds[stepNames.cosLocal] = { dtype: "float32", shape: [batch, length, width], data: cosLocal }
    feeds[stepNames.sinLocal] = { dtype: "float32", shape: [batch, length, width], data: sinLocal }
  }
  return feeds
}

/** Left-pads each sequence to `length`: tokens with `padTokenId`, positions 0.. for real tokens and -1 for padding. */
export const leftPadRows = (sequences: ReadonlyArray<ReadonlyArray<number>>, length: number, padTokenId: number, cache: number): Array<RowStep> =>
  sequences.map((tokens) => {
    const padding = length - tokens.length
    return {
      tokens: [...new Array<number>(padding).fill(padTokenId), ...tokens],
      positions: [...new Array<number>(padding).fill(-1), ...tokens.map((_, i) => i)],
      cachePositions: new Array<number>(cache).fill(-1)
    }
  })

/** The cache slots after a step: the last `cache` of (previous slots ++ the step's positions). */
export const slideCache = (row: RowStep, cache: number): Array<number> => [...row.cachePositions, ...row.positions].slice(-cache)
