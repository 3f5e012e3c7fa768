/**
 * The tiny one-layer LM of tools/golden/tensor/make_block_golden.py, built with
 * the nn blocks (test support, shared by the parity and training tests).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as T from "../../src/index.ts"

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

/** Builds embedding → decoder layer → norm → LM head → masked cross-entropy; returns the graph and loss. */
export const buildTinyLm = (golden: BlockGolden, dtype: T.DType = "float64") => {
  const c = golden.config
  const g = new T.Graph()
  const { batch, seq } = c
  const inputs = g.input("input_ids", "int64", [batch, seq])
  const targets = g.input("targets", "int64", [batch, seq])
  const mask = g.input("loss_mask", dtype, [batch, seq])
  const positions = g.input("positions", "int64", [batch, seq])
  const layer: T.DecoderLayerConfig = { hidden: c.hidden, numHeads: c.num_heads, numKvHeads: c.num_kv_heads, headDim: c.head_dim, intermediate: c.intermediate, rmsNormEps: c.rms_norm_eps }
  const embed = g.parameter("model.embed_tokens.weight", dtype, [c.vocab, c.hidden])
  const params = T.decoderLayerParams(g, "model.layers.0", layer, { dtype })
  const norm = g.parameter("model.norm.weight", dtype, [c.hidden])
  const head = T.linearParams(g, "lm_head", c.hidden, c.vocab, { dtype })
  const rope = T.rotaryTables(positions, c.head_dim, c.rope_theta, dtype)
  const h = T.decoderLayer(T.embedding(embed, inputs), params, layer, rope)
  const logits = T.applyLinear(T.rmsNorm(h, norm, c.rms_norm_eps), head)
  const loss = T.crossEntropy(logits, targets, mask)
  return { graph: g, loss }
}

/** Feeds for the golden batch and parameters (`params` overrides the golden weights). */
export const goldenFeeds = (golden: BlockGolden, params?: Readonly<Record<string, ArrayLike<number>>>): Record<string, ArrayLike<number>> => {
  const { batch, seq } = golden.config
  const feeds: Record<string, ArrayLike<number>> = {
    input_ids: golden.inputs,
    targets: golden.targets,
    loss_mask: golden.mask,
    positions: Array.from({ length: batch * seq }, (_, i) => i % seq)
  }
  for (const [name, p] of Object.entries(golden.params)) feeds[name] = params?.[name] ?? p.data
  return feeds
}
