/**
 * PyTorch parity through ONNX: a one-layer Llama LM (embedding → decoder layer →
 * RMSNorm → LM head → masked cross-entropy) built with the shipped trunk
 * (`llamaTrunk` of @refine-af/models, every weight trainable),
 * differentiated by `grad`, compiled to ONNX and run in float32 on the CPU;
 * loss and every parameter gradient are compared with the float64 PyTorch
 * golden file tools/golden/tensor/block_golden.json (made by make_block_golden.py).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { leftPadRows, llamaTrunk, lmLogits, makeStepFeeds, maskedCrossEntropy, parseLlamaConfig, ropeFrequencies, type LlamaConfig } from "@refine-af/models"
import * as T from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { withBackend } from "./support/run.ts"

interface Golden {
  readonly config: { vocab: number; hidden: number; num_heads: number; num_kv_heads: number; head_dim: number; intermediate: number; rms_norm_eps: number; rope_theta: number; batch: number; seq: number }
  readonly inputs: ReadonlyArray<number>
  readonly targets: ReadonlyArray<number>
  readonly mask: ReadonlyArray<number>
  readonly params: Readonly<Record<string, { shape: ReadonlyArray<number>; data: ReadonlyArray<number> }>>
  readonly loss: number
  readonly grads: Readonly<Record<string, ReadonlyArray<number>>>
}

const goldenPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../tools/golden/tensor/block_golden.json")
// float32 vs the float64 reference: measured 3.3e-7 (gradients) and 3.5e-9 (loss); 1e-5 is the suite tolerance.
const TOLERANCE = 1e-5

const configOf = (golden: Golden): LlamaConfig => {
  const c = golden.config
  return Effect.runSync(parseLlamaConfig("block_golden.json", {
    model_type: "llama", vocab_size: c.vocab, hidden_size: c.hidden, intermediate_size: c.intermediate, num_hidden_layers: 1,
    num_attention_heads: c.num_heads, num_key_value_heads: c.num_kv_heads, head_dim: c.head_dim, rms_norm_eps: c.rms_norm_eps,
    rope_theta: c.rope_theta, tie_word_embeddings: false
  }))
}

const buildLossProgram = (golden: Golden): T.Program => {
  const trunk = llamaTrunk(configOf(golden), { batch: golden.config.batch, length: golden.config.seq, cache: 0 }, { trainableBase: true })
  trunk.graph.output("loss", maskedCrossEntropy(trunk, lmLogits(trunk, "all")))
  return T.grad(trunk.graph.build(), "loss")
}

describe.runIf(fs.existsSync(goldenPath))("PyTorch golden through ONNX (cpu, float32)", () => {
  it("loss and every parameter gradient match torch", async () => {
    const golden = JSON.parse(fs.readFileSync(goldenPath, "utf8")) as Golden
    const program = buildLossProgram(golden)
    const { batch, seq } = golden.config
    const shape = [batch, seq]
    const config = configOf(golden)
    const rows = Array.from({ length: batch }, (_, r) => golden.inputs.slice(r * seq, (r + 1) * seq))
    const frequencies = ropeFrequencies(config.ropeScaling, config.ropeTheta, config.headDim, config.maxPositionEmbeddings, seq)
    const feeds: Record<string, T.HostTensor> = {
      ...makeStepFeeds(config, frequencies, { batch, length: seq, cache: 0 }, leftPadRows(rows, seq, 0, 0), 0),
      targets: T.hostTensor("int64", shape, golden.targets),
      loss_mask: T.hostTensor("float32", shape, golden.mask)
    }
    for (const [name, p] of Object.entries(golden.params)) feeds[name] = T.hostTensor("float32", p.shape, p.data)
    const out = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program)
        const result = yield* backend.run(exe, feeds)
        const host: Record<string, Float64Array> = {}
        for (const [name, t] of Object.entries(result)) host[name] = T.toFloat64(yield* backend.download(t))
        return host
      })
    )
    expect(Math.abs(out["loss"]![0]! - golden.loss) / golden.loss).toBeLessThanOrEqual(TOLERANCE)
    const names = Object.keys(golden.grads)
    expect(names.length).toBe(12)
    for (const name of names) expect(T.relativeError(out[T.gradName(name)]!, golden.grads[name]!), name).toBeLessThanOrEqual(TOLERANCE)
  })
})
