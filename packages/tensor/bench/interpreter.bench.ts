/**
 * Reference-interpreter cost of a tiny Llama LM: forward (loss) vs forward +
 * backward (grad) vs a full AdamW training step, side by side in one run.
 * Prints a table and writes bench-results/tensor-interpreter.json.
 *
 * Run: cd packages/tensor && npx tsx bench/interpreter.bench.ts
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as T from "../src/index.ts"

const c = { vocab: 256, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, intermediate: 172, batch: 2, seq: 32 }
const layer: T.DecoderLayerConfig = { hidden: c.hidden, numHeads: c.heads, numKvHeads: c.kvHeads, headDim: c.headDim, intermediate: c.intermediate, rmsNormEps: 1e-5 }

const build = () => {
  const g = new T.Graph()
  const shape = [c.batch, c.seq]
  const ids = g.input("input_ids", "int64", shape)
  const targets = g.input("targets", "int64", shape)
  const rope = T.rotaryTables(g.input("positions", "int64", shape), c.headDim, 10000, "float32")
  const h = T.decoderLayer(T.embedding(g.parameter("embed", "float32", [c.vocab, c.hidden]), ids), T.decoderLayerParams(g, "l0", layer, { dtype: "float32" }), layer, rope)
  return T.crossEntropy(T.applyLinear(h, T.linearParams(g, "head", c.hidden, c.vocab, { dtype: "float32" })), targets)
}

const forward = (() => {
  const loss = build()
  loss.graph.output("loss", loss)
  return loss.graph.build()
})()
const withGrads = T.grad(forward, "loss")
const step = T.trainStep(build(), { optimizer: T.adamw(), clipGradNorm: 1 })

const feeds: Record<string, ArrayLike<number>> = {
  input_ids: Array.from({ length: c.batch * c.seq }, (_, i) => (i * 37) % c.vocab),
  targets: Array.from({ length: c.batch * c.seq }, (_, i) => (i * 11 + 5) % c.vocab),
  positions: Array.from({ length: c.batch * c.seq }, (_, i) => i % c.seq),
  [T.stepInputNames.lr]: [1e-3],
  [T.stepInputNames.step]: [1]
}
for (const b of step.carry) feeds[b.input] = Float64Array.from({ length: T.sizeOf(b.shape) }, (_, i) => (b.init === "zeros" ? 0 : Math.sin(i) * 0.1))

const time = (program: T.Program, reps = 5) => {
  T.interpret(program, feeds) // warm-up
  const t0 = performance.now()
  for (let i = 0; i < reps; i++) T.interpret(program, feeds)
  return (performance.now() - t0) / reps
}
const forwardMs = time(forward)
const rows = [
  { program: "forward (loss)", nodes: forward.nodes.length, ms: +forwardMs.toFixed(1), ratio: 1 },
  { program: "forward + grad", nodes: withGrads.nodes.length, ms: +time(withGrads).toFixed(1), ratio: 0 },
  { program: "AdamW train step", nodes: step.program.nodes.length, ms: +time(step.program).toFixed(1), ratio: 0 }
].map((r) => ({ ...r, ratio: +(r.ms / forwardMs).toFixed(2) }))
console.table(rows)
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.cpus().length} cores`)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const out = path.join(root, "bench-results", "tensor-interpreter.json")
fs.writeFileSync(out, JSON.stringify({ bench: "tensor-interpreter", date: new Date().toISOString(), node: process.version, loadavg: os.loadavg(), model: c, rows }, null, 2) + "\n")
console.log(`wrote ${out}`)
