/**
 * Reference-interpreter cost of a tiny Llama LM (the shipped trunk, one layer): forward (loss) vs forward +
 * backward (grad) vs a full AdamW training step, side by side in one run.
 * Prints a table and writes bench-results/tensor-interpreter.json.
 *
 * Run: cd packages/models && npx tsx bench/interpreter.bench.ts
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as T from "@refine-af/tensor"
import { Effect } from "effect"
import { leftPadRows, llamaTrunk, lmLogits, makeStepFeeds, maskedCrossEntropy, parseLlamaConfig, configRopeFrequencies } from "../src/index.ts"

const c = { vocab: 256, hidden: 64, heads: 4, kvHeads: 2, headDim: 16, intermediate: 172, batch: 2, seq: 32 }
const config = Effect.runSync(parseLlamaConfig("bench", {
  model_type: "llama", vocab_size: c.vocab, hidden_size: c.hidden, intermediate_size: c.intermediate, num_hidden_layers: 1,
  num_attention_heads: c.heads, num_key_value_heads: c.kvHeads, head_dim: c.headDim, tie_word_embeddings: false
}))

const build = () => {
  const trunk = llamaTrunk(config, { batch: c.batch, length: c.seq, cache: 0 }, { trainableBase: true })
  return maskedCrossEntropy(trunk, lmLogits(trunk, "all"))
}
const ids = Array.from({ length: c.batch * c.seq }, (_, i) => (i * 37) % c.vocab)
const rows = Array.from({ length: c.batch }, (_, r) => ids.slice(r * c.seq, (r + 1) * c.seq))
const frequencies = configRopeFrequencies(config, c.seq)
const stepFeeds = makeStepFeeds(config, frequencies, { batch: c.batch, length: c.seq, cache: 0 }, leftPadRows(rows, c.seq, 0, 0), 0)

const forward = (() => {
  const loss = build()
  loss.graph.output("loss", loss)
  return loss.graph.build()
})()
const withGrads = T.grad(forward, "loss")
const step = T.trainStep(build(), { optimizer: T.adamw(), clipGradNorm: 1 })

const feeds: Record<string, ArrayLike<number>> = {
  ...Object.fromEntries(Object.entries(stepFeeds).map(([name, t]) => [name, Array.from(t.data as ArrayLike<number | bigint>, Number)])),
  targets: Array.from({ length: c.batch * c.seq }, (_, i) => (i * 11 + 5) % c.vocab),
  loss_mask: new Array<number>(c.batch * c.seq).fill(1),
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
const table = [
  { program: "forward (loss)", nodes: forward.nodes.length, ms: +forwardMs.toFixed(1), ratio: 1 },
  { program: "forward + grad", nodes: withGrads.nodes.length, ms: +time(withGrads).toFixed(1), ratio: 0 },
  { program: "AdamW train step", nodes: step.program.nodes.length, ms: +time(step.program).toFixed(1), ratio: 0 }
].map((r) => ({ ...r, ratio: +(r.ms / forwardMs).toFixed(2) }))
console.table(table)
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.cpus().length} cores`)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const out = path.join(root, "bench-results", "tensor-interpreter.json")
fs.writeFileSync(out, JSON.stringify({ bench: "tensor-interpreter", date: new Date().toISOString(), node: process.version, loadavg: os.loadavg(), model: c, rows: table }, null, 2) + "\n")
console.log(`wrote ${out}`)
