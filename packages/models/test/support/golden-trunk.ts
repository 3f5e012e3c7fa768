/**
 * The one-layer Llama LM of tools/golden/tensor/make_block_golden.py (float64
 * PyTorch) built with the shipped trunk, with its golden feeds (test support).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import type * as T from "@refine-af/tensor"
import { leftPadRows, llamaTrunk, lmLogits, makeStepFeeds, maskedCrossEntropy, parseLlamaConfig, ropeFrequencies, rotaryTables, type LlamaConfig } from "../../src/index.ts"

/** Golden file layout written by make_block_golden.py. */
export interface BlockGolden {
  readonly config: { vocab: number; hidden: number; num_heads: number; num_kv_heads: number; head_dim: number; intermediate: number; rms_norm_eps: number; rope_theta: number; batch: number; seq: number }
  readonly inputs: ReadonlyArray<number>
  readonly targets: ReadonlyArray<number>
  readonly mask: ReadonlyArray<number>
  readonly params: Readonly<Record<string, { shape: ReadonlyArray<number>; data: ReadonlyArray<number> }>>
  readonly loss: number
  readonly grads: Readonly<Record<string, ReadonlyArray<number>>>
  readonly adamw: {
    lr: number; beta1: number; beta2: number; eps: number; weight_decay: number; max_grad_norm: number
    after_step: ReadonlyArray<{ loss: number; params: Readonly<Record<string, ReadonlyArray<number>>> }>
  }
}

const here = path.dirname(fileURLToPath(import.meta.url))
/** Path of the committed golden file. */
export const goldenPath = path.resolve(here, "../../../../tools/golden/tensor/block_golden.json")

/** Reads the golden file. */
export const readGolden = (): BlockGolden => JSON.parse(fs.readFileSync(goldenPath, "utf8")) as BlockGolden

/** The golden model as a `config.json` → `LlamaConfig`. */
export const goldenConfig = (golden: BlockGolden): LlamaConfig => {
  const c = golden.config
  return Effect.runSync(parseLlamaConfig("block_golden.json", {
    model_type: "llama",
    vocab_size: c.vocab,
    hidden_size: c.hidden,
    intermediate_size: c.intermediate,
    num_hidden_layers: 1,
    num_attention_heads: c.num_heads,
    num_key_value_heads: c.num_kv_heads,
    head_dim: c.head_dim,
    rms_norm_eps: c.rms_norm_eps,
    rope_theta: c.rope_theta,
    tie_word_embeddings: false
  }))
}

/** The trunk (every weight trainable, float64) + LM head + masked cross-entropy. */
export const buildGoldenLm = (golden: BlockGolden) => {
  const config = goldenConfig(golden)
  const trunk = llamaTrunk(config, { batch: golden.config.batch, length: golden.config.seq, cache: 0 }, { trainableBase: true, dtype: "float64" })
  return { graph: trunk.graph, loss: maskedCrossEntropy(trunk, lmLogits(trunk, "all")), config }
}

/** Host feeds (int64 / bool / float) as interpreter feeds. */
export const interpreterFeeds = (feeds: Readonly<Record<string, T.HostTensor>>): Record<string, ArrayLike<number>> =>
  Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, Array.from(t.data as ArrayLike<number | bigint>, Number)]))

const float64Rope = (frequencies: ReturnType<typeof ropeFrequencies>, batch: number, seq: number) => {
  const { cos, sin } = rotaryTables(frequencies, Array.from({ length: seq }, (_, i) => i))
  const repeat = (table: Float64Array) => Array.from({ length: batch }, () => Array.from(table)).flat()
  return { cos: repeat(cos), sin: repeat(sin) }
}

/** Feeds for the golden batch and parameters (`params` overrides the golden weights). */
export const goldenFeeds = (golden: BlockGolden, params?: Readonly<Record<string, ArrayLike<number>>>): Record<string, ArrayLike<number>> => {
  const config = goldenConfig(golden)
  const { batch, seq } = golden.config
  const rows = Array.from({ length: batch }, (_, r) => golden.inputs.slice(r * seq, (r + 1) * seq))
  const shape = { batch, length: seq, cache: 0 }
  const frequencies = ropeFrequencies(config.ropeScaling, config.ropeTheta, config.headDim, config.maxPositionEmbeddings, seq)
  const feeds: Record<string, ArrayLike<number>> = {
    ...interpreterFeeds(makeStepFeeds(config, frequencies, shape, leftPadRows(rows, seq, 0, 0), 0)),
    // Rope tables in float64 (makeStepFeeds rounds them to float32 for the backends): AdamW's
    // normalised updates of near-zero gradients would amplify float32 rounding.
    ...float64Rope(frequencies, batch, seq),
    targets: golden.targets,
    loss_mask: golden.mask
  }
  for (const [name, p] of Object.entries(golden.params)) feeds[name] = params?.[name] ?? p.data
  return feeds
}
