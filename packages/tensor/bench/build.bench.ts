/**
 * Program-construction cost for Llama-shaped models of growing depth: building the
 * forward graph, differentiating it, adding an AdamW step (with LoRA, as training
 * runs do), dead-code elimination and hashing. Prints a table and writes
 * bench-results/tensor-build.json.
 *
 * Run: cd packages/tensor && npx tsx bench/build.bench.ts
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as T from "../src/index.ts"

const config: T.DecoderLayerConfig = { hidden: 2048, numHeads: 32, numKvHeads: 4, headDim: 64, intermediate: 5632, rmsNormEps: 1e-5 }
const vocab = 32000
const [batch, seq] = [4, 256]

const buildModel = (layers: number) => {
  const g = new T.Graph()
  const ids = g.input("input_ids", "int64", [batch, seq])
  const targets = g.input("targets", "int64", [batch, seq])
  const mask = g.input("loss_mask", "float32", [batch, seq])
  const rope = T.rotaryTables(g.input("positions", "int64", [batch, seq]), config.headDim, 10000, "float32")
  let h = T.embedding(g.parameter("model.embed_tokens.weight", "float32", [vocab, config.hidden], { trainable: false }), ids)
  for (let l = 0; l < layers; l++) h = T.decoderLayer(h, T.decoderLayerParams(g, `model.layers.${l}`, config, { dtype: "float32", lora: { rank: 8, alpha: 16 } }), config, rope)
  h = T.rmsNorm(h, g.parameter("model.norm.weight", "float32", [config.hidden], { trainable: false }), config.rmsNormEps)
  const logits = T.applyLinear(h, T.linearParams(g, "lm_head", config.hidden, vocab, { dtype: "float32", trainable: false }))
  return T.crossEntropy(logits, targets, mask)
}

const time = <A>(f: () => A): [A, number] => {
  const t0 = performance.now()
  const out = f()
  return [out, performance.now() - t0]
}

const rows: Array<Record<string, number>> = []
for (const layers of [1, 4, 16, 32]) {
  const [loss, forwardMs] = time(() => buildModel(layers))
  const forwardNodes = loss.graph.size
  const [step, stepMs] = time(() => T.trainStep(loss, { optimizer: T.adamw(), clipGradNorm: 1 }))
  const [, hashMs] = time(() => T.programHash(step.program))
  const [, dceMs] = time(() => T.eliminateDeadCode(step.program))
  rows.push({
    layers,
    forwardNodes,
    forwardMs: +forwardMs.toFixed(2),
    trainStepNodes: step.program.nodes.length,
    trainStepMs: +stepMs.toFixed(2),
    nodeRatio: +(step.program.nodes.length / forwardNodes).toFixed(2),
    timeRatio: +(stepMs / forwardMs).toFixed(2),
    hashMs: +hashMs.toFixed(2),
    dceMs: +dceMs.toFixed(2),
    usPerNode: +((1000 * (forwardMs + stepMs)) / step.program.nodes.length).toFixed(2)
  })
}
console.table(rows)
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.cpus().length} cores (timings scale with contention)`)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const out = path.join(root, "bench-results", "tensor-build.json")
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, JSON.stringify({ bench: "tensor-build", date: new Date().toISOString(), node: process.version, loadavg: os.loadavg(), cpus: os.cpus().length, model: { ...config, vocab, batch, seq, lora: { rank: 8, alpha: 16 } }, rows }, null, 2) + "\n")
console.log(`wrote ${out}`)
