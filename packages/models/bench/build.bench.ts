/**
 * Program-construction cost for the shipped Llama trunk (`buildLossGraph`) at growing
 * depth: building the forward graph, differentiating it, adding an AdamW step (with LoRA, as training
 * runs do), dead-code elimination and hashing. Prints a table and writes
 * bench-results/tensor-build.json.
 *
 * Run: cd packages/models && npx tsx bench/build.bench.ts
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as T from "@refine-af/tensor"
import { Effect } from "effect"
import { buildLossGraph, LLAMA_PROJECTIONS, parseLlamaConfig } from "../src/index.ts"

const config = { hidden_size: 2048, num_attention_heads: 32, num_key_value_heads: 4, head_dim: 64, intermediate_size: 5632, rms_norm_eps: 1e-5 }
const vocab = 32000
const [batch, seq] = [4, 256]
const lora = { rank: 8, alpha: 16, targets: LLAMA_PROJECTIONS }

const buildModel = (layers: number) => {
  const llama = Effect.runSync(parseLlamaConfig("bench", { model_type: "llama", vocab_size: vocab, num_hidden_layers: layers, ...config }))
  return buildLossGraph(llama, { batch, length: seq }, lora).loss
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
fs.writeFileSync(out, JSON.stringify({ bench: "tensor-build", date: new Date().toISOString(), node: process.version, loadavg: os.loadavg(), cpus: os.cpus().length, model: { ...config, vocab, batch, seq, lora: { rank: 8, alpha: 16, targets: "all 7 projections" } }, rows }, null, 2) + "\n")
console.log(`wrote ${out}`)
