/**
 * One projection of a TinyLlama-1.1B MLP (x [1, 2048] · Wᵀ, W [5632, 2048]) as a
 * one-node onnxruntime session: float32 MatMul vs MatMulNBits at 8 and 4 bits,
 * with float32 activations (accuracy_level 0) and int8 activations (4), the
 * codes as initializers (baked, pre-packed) or as graph inputs (bound). Best of
 * 30 runs after a warm-up, 2 intra-op threads, all in one process.
 *
 *   npx tsx tools/bench-quant/matmul-nbits.ts    # → bench-results/quant-matmul.json
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as ort from "onnxruntime-node"
import { encodeModel, type OnnxNode, type OnnxTensor } from "@refine-af/backend-onnx"
import { quantiseWeight, type BlockQuantisedWeight } from "@refine-af/tensor"
import { benchOutFile } from "../gpu-check/bench-env.ts"

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "../..")
const K = 2048
const N = 5632
const weights = new Float32Array(N * K).map((_, i) => Math.sin(i * 0.37))
const x = new Float32Array(K).map((_, i) => Math.cos(i))
const startLoad = loadavg()

const measure = async (bits: 4 | 8 | 32, accuracyLevel: number, codesAsInput = false) => {
  const initializers: Array<OnnxTensor> = []
  const nodes: Array<OnnxNode> = []
  const inputs: Array<{ name: string; dataType: "float32" | "uint8"; dims: Array<number> }> = [{ name: "x", dataType: "float32", dims: [1, K] }]
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor("float32", x, [1, K]) }
  if (bits === 32) {
    initializers.push({ name: "w", dataType: "float32", dims: [K, N], raw: new Uint8Array(weights.buffer) })
    nodes.push({ opType: "MatMul", inputs: ["x", "w"], outputs: ["y"] })
  } else {
    const q = quantiseWeight(weights, [N, K], bits === 4 ? "int4" : "int8", 32) as BlockQuantisedWeight
    const codeDims = [N, K / 32, (32 * bits) / 8]
    if (codesAsInput) {
      // How a weight bound once (uploadQuantised) reaches a session: the kernel cannot pre-pack it.
      inputs.push({ name: "b", dataType: "uint8", dims: codeDims }, { name: "s", dataType: "float32", dims: [N, K / 32] })
      feeds.b = new ort.Tensor("uint8", q.codes, codeDims)
      feeds.s = new ort.Tensor("float32", q.scales, [N, K / 32])
    } else {
      initializers.push({ name: "b", dataType: "uint8", dims: codeDims, raw: q.codes })
      initializers.push({ name: "s", dataType: "float32", dims: [N, K / 32], raw: new Uint8Array(q.scales.buffer) })
    }
    nodes.push({
      opType: "MatMulNBits", domain: "com.microsoft", inputs: ["x", "b", "s"], outputs: ["y"],
      attributes: [{ name: "K", int: K }, { name: "N", int: N }, { name: "bits", int: bits }, { name: "block_size", int: 32 }, { name: "accuracy_level", int: accuracyLevel }]
    })
  }
  const bytes = encodeModel({
    irVersion: 8, opsetVersion: 18, producerName: "bench", extraOpsets: [{ domain: "com.microsoft", version: 1 }],
    graph: { name: "g", nodes, inputs, outputs: [{ name: "y", dataType: "float32", dims: [1, N] }], initializers }
  })
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 })
  await session.run(feeds)
  let best = Infinity
  for (let i = 0; i < 30; i++) {
    const start = performance.now()
    await session.run(feeds)
    best = Math.min(best, performance.now() - start)
  }
  await session.release()
  return { kernel: bits === 32 ? "MatMul float32" : `MatMulNBits ${bits}-bit${codesAsInput ? " (codes input)" : ""}`, accuracyLevel: bits === 32 ? null : accuracyLevel, bestMs: best }
}

const rows = []
for (const [bits, level] of [[32, 0], [8, 0], [8, 4], [4, 0], [4, 4]] as const) rows.push(await measure(bits, level))
for (const [bits, level] of [[8, 0], [8, 4], [4, 0], [4, 4]] as const) rows.push(await measure(bits, level, true))
const float32 = rows[0]!.bestMs
console.log(`x[1,${K}]·Wᵀ, W[${N},${K}], 2 threads, load average ${startLoad.map((l) => l.toFixed(1)).join(" ")}`)
console.log("kernel                              accuracy_level   best ms   vs float32")
for (const row of rows) console.log(`${row.kernel.padEnd(35)} ${String(row.accuracyLevel ?? "-").padStart(14)} ${row.bestMs.toFixed(2).padStart(9)} ${(float32 / row.bestMs).toFixed(2).padStart(11)}×`)
const out = benchOutFile(nodePath.join(repoRoot, "bench-results/quant-matmul.json"))
mkdirSync(nodePath.dirname(out), { recursive: true })
writeFileSync(out, JSON.stringify({ benchmark: "quant-matmul", date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() }, shape: { K, N, batch: 1, blockSize: 32, threads: 2 }, results: rows.map((r) => ({ ...r, speedupVsFloat32: float32 / r.bestMs })) }, null, 2) + "\n")
console.log(`wrote ${out}`)
