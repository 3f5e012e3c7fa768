/**
 * Decode-step products `y = x·Wᵀ` (W [N, K], x [M, K]) in onnxruntime CPU,
 * one weight layout and form against another, side by side in one run: why
 * batch-1 decode on shared (bound, not pre-packed) weights is slower than on
 * baked ones, and why batched decode uses weight-left products.
 *
 * - `transB` (what a bound weight gets at 1-3 rows; 1 at K ≥ 1024 with AVX-512): Transpose + MatMul, fused by
 *   onnxruntime into one product with B transposed; at one row MLAS runs its
 *   one-row kernel for transposed B (a dot product per output);
 * - `plainKN`: the same product with the weight stored [K, N] (one-row kernel for
 *   untransposed B, an axpy over rows of W);
 * - `weightLeft` (what a bound weight gets at 4-32 rows; 2-32 at K ≥ 1024 with AVX-512): `(W·xᵀ)ᵀ`;
 * - `baked`: W an initializer, pre-packed by onnxruntime (the baked-weight path).
 *
 *   npx tsx tools/bench-llama/gemv-layouts.ts [--streamed] [--rows 1,2,3,8] [--shapes 768x2048,2048x5632]
 *
 * With `--streamed` each form runs over enough distinct weights of the shape
 * (at least 64 MiB together, a session each, round-robin) that every product
 * reads its weight from memory, not cache, as a decode step does with a
 * model's weights; without it one weight is reused (mostly cache-resident
 * for the small shapes).
 *
 * `--rows` and `--shapes` (K x N) replace the default rows (1, 8) and shapes.
 * Prints a table and writes bench-results/gemv-layouts.json
 * (gemv-layouts-streamed.json with `--streamed`; REFINE_AF_BENCH_OUT names
 * another file).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { encodeModel, type OnnxNode } from "@refine-af/backend-onnx"
import * as ort from "onnxruntime-node"
import { benchOutFile } from "../gpu-check/bench-env.ts"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
// [K, N]: the 30M model's LM head (hidden 384), the 1.1B model's MLP and LM head (hidden 2048).
const option = (name: string): string | undefined => {
  const at = process.argv.indexOf(name)
  return at >= 0 ? process.argv[at + 1] : undefined
}
const listed = (name: string, parse: (item: string) => number | readonly [number, number]) => {
  const value = option(name)
  if (value === undefined) return undefined
  const items = value.split(",").map(parse)
  if (items.some((item) => (typeof item === "number" ? !(item >= 1) : !(item[0] >= 1 && item[1] >= 1)))) throw new Error(`${name} ${value}: expected positive integers (${name === "--rows" ? "1,2,8" : "384x32000,2048x5632"})`)
  return items
}
const SHAPES = (listed("--shapes", (item) => item.split("x").map(Number) as unknown as readonly [number, number]) as ReadonlyArray<readonly [number, number]> | undefined) ?? [[384, 32000], [384, 1024], [2048, 5632], [2048, 32000]]
const ROWS = (listed("--rows", Number) as ReadonlyArray<number> | undefined) ?? [1, 8]
const streamed = process.argv.includes("--streamed")
const ROUNDS = streamed ? 20 : 5
const REPEATS = streamed ? 1 : 12
/** Distinct weights per form: enough to stream 64 MiB per pass with --streamed, else one. */
const copiesOf = (bytes: number) => (streamed ? Math.max(1, Math.ceil((64 * 2 ** 20) / bytes)) : 1)

type Form = "transB" | "plainKN" | "weightLeft" | "baked"
const FORMS: ReadonlyArray<Form> = ["transB", "plainKN", "weightLeft", "baked"]
const transpose = (input: string, output: string): OnnxNode => ({ opType: "Transpose", inputs: [input], outputs: [output], attributes: [{ name: "perm", ints: [1, 0] }] })

const nodesOf = (form: Form): Array<OnnxNode> => {
  switch (form) {
    case "transB":
    case "baked":
      return [transpose("W", "T"), { opType: "MatMul", inputs: ["x", "T"], outputs: ["y"] }]
    case "plainKN":
      return [{ opType: "MatMul", inputs: ["x", "WT"], outputs: ["y"] }]
    case "weightLeft":
      return [transpose("x", "xT"), { opType: "MatMul", inputs: ["W", "xT"], outputs: ["yT"] }, transpose("yT", "y")]
  }
}

const startLoad = loadavg()
const results: Array<Record<string, unknown>> = []
const transposed = (w: Float32Array, N: number, K: number) => {
  const wT = new Float32Array(K * N)
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wT[k * N + n] = w[n * K + k]!
  return wT
}

for (const [K, N] of SHAPES) {
  const copies = copiesOf(N * K * 4)
  const weights = Array.from({ length: copies }, (_, j) => new Float32Array(N * K).map((_, i) => Math.sin(i * 0.37 + j)))
  const weightsT = weights.map((w) => transposed(w, N, K))
  for (const M of ROWS) {
    const x = new Float32Array(M * K).map((_, i) => Math.cos(i))
    const sessions: Array<{ form: Form; runs: Array<{ session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }> }> = []
    for (const form of FORMS) {
      const runs: Array<{ session: ort.InferenceSession; feeds: Record<string, ort.Tensor> }> = []
      for (let j = 0; j < copies; j++) {
        const w = weights[j]!
        const stored = form === "plainKN" ? { name: "WT", dims: [K, N], data: weightsT[j]! } : { name: "W", dims: [N, K], data: w }
        const bytes = encodeModel({
          irVersion: 8,
          opsetVersion: 18,
          producerName: "gemv-layouts",
          graph: {
            name: "g",
            nodes: nodesOf(form),
            inputs: [{ name: "x", dataType: "float32", dims: [M, K] }, ...(form === "baked" ? [] : [{ name: stored.name, dataType: "float32" as const, dims: stored.dims }])],
            outputs: [{ name: "y", dataType: "float32", dims: [M, N] }],
            initializers: form === "baked" ? [{ name: "W", dataType: "float32", dims: [N, K], raw: new Uint8Array(w.buffer) }] : []
          }
        })
        const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: Math.min(2, cpus().length), enableCpuMemArena: false, extra: { session: { force_spinning_stop: "1" } } })
        const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor("float32", x, [M, K]) }
        if (form !== "baked") feeds[stored.name] = new ort.Tensor("float32", stored.data, stored.dims)
        runs.push({ session, feeds })
      }
      sessions.push({ form, runs })
    }
    // Every form computes the same product (checked on the first weight).
    let reference: Float32Array | undefined
    for (const { form, runs } of sessions) {
      const y = (await runs[0]!.session.run(runs[0]!.feeds))["y"]!.data as Float32Array
      reference ??= y
      let worst = 0
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i]! - reference[i]!) / Math.max(1, Math.abs(reference[i]!)))
      if (worst > 1e-4) throw new Error(`${form} differs from transB by ${worst} at K=${K} N=${N} M=${M}`)
    }
    // Interleaved rounds: each form's best time per product over all of them (a pass over its weights, per weight).
    const best = new Map<Form, number>()
    for (let round = 0; round < ROUNDS; round++) {
      for (const { form, runs } of sessions) {
        for (let i = 0; i < REPEATS; i++) {
          const t = performance.now()
          for (const { session, feeds } of runs) await session.run(feeds)
          best.set(form, Math.min(best.get(form) ?? Infinity, (performance.now() - t) / runs.length))
        }
      }
    }
    for (const { runs } of sessions) for (const { session } of runs) await session.release()
    const ms = Object.fromEntries(FORMS.map((f) => [f, best.get(f)!]))
    const gbs = Object.fromEntries(FORMS.map((f) => [f, (N * K * 4) / (best.get(f)! * 1e6)]))
    results.push({ K, N, rows: M, weightMiB: (N * K * 4) / 2 ** 20, distinctWeights: copies, milliseconds: ms, weightGBPerSecond: gbs, transBOverPlainKN: best.get("transB")! / best.get("plainKN")!, transBOverBaked: best.get("transB")! / best.get("baked")! })
  }
}

console.log(`onnxruntime CPU, ${Math.min(2, cpus().length)} threads; load average ${startLoad.map((l) => l.toFixed(2)).join(" ")} → ${loadavg().map((l) => l.toFixed(2)).join(" ")}`)
console.log("     K      N  rows  weight MiB   transB ms  plainKN ms  weightLeft ms  baked ms   transB/plainKN  transB/baked")
for (const r of results as Array<any>) {
  const m = r.milliseconds
  console.log(`${String(r.K).padStart(6)} ${String(r.N).padStart(6)} ${String(r.rows).padStart(5)} ${r.weightMiB.toFixed(1).padStart(11)} ${m.transB.toFixed(3).padStart(11)} ${m.plainKN.toFixed(3).padStart(11)} ${m.weightLeft.toFixed(3).padStart(14)} ${m.baked.toFixed(3).padStart(9)} ${r.transBOverPlainKN.toFixed(2).padStart(16)} ${r.transBOverBaked.toFixed(2).padStart(13)}`)
}
const file = benchOutFile(nodePath.join(repoRoot, `bench-results/gemv-layouts${streamed ? "-streamed" : ""}.json`))
mkdirSync(nodePath.dirname(file), { recursive: true })
writeFileSync(
  file,
  JSON.stringify(
    {
      benchmark: "gemv-layouts",
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
      settings: { rows: ROWS, shapes: SHAPES.map(([k, n]) => `${k}x${n}`), threads: Math.min(2, cpus().length), rounds: ROUNDS, repeatsPerRound: REPEATS, streamed, timing: streamed ? "best pass over distinct weights (>= 64 MiB), per product, forms interleaved" : "best single run, forms interleaved", malloc: { MALLOC_MMAP_THRESHOLD_: process.env["MALLOC_MMAP_THRESHOLD_"] ?? "glibc default" } },
      results
    },
    null,
    2
  ) + "\n"
)
console.log(`wrote ${file}`)
