/**
 * Scorer throughput benchmark (issue 11): samples per second of a
 * Pythia-160M-shaped OpenAssistant reward model (GPT-NeoX, `reward-model/hf`'s
 * program) and a T5-base-shaped UniEval (encoder + first decoder step,
 * `unieval/dialog`'s program) at batch 1 / 8 / 32, against the same models in
 * PyTorch CPU eager float32 (bench_scorers_torch.py: the golden scripts'
 * plain-torch forwards), same safetensors weights, same shapes, side by side in
 * one run. Also the cost per instance of the full REFINE-AF composite: one
 * reward-model pass plus three UniEval questions (naturalness, coherence,
 * understandability), from the batch-32 throughput (the weighted sum itself is
 * a few additions).
 *
 * Ours runs the scorers' own path: weights uploaded once and fed to a program
 * compiled per (batch, length), host token feeds, output downloaded.
 *
 *   npx tsx tools/bench-scorers/bench-scorers.ts [--quick]
 *
 * Prints a table and writes bench-results/scorers.json (not with --quick).
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { loadT5, t5FirstStepProgram } from "@refine-af/models"
import { loadScoringModel } from "@refine-af/reward-model"
import { hostTensor, type BackendFeed, type BackendService, type DeviceTensor, type Executable, type HostTensor } from "@refine-af/tensor"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
const quick = process.argv.includes("--quick")
const LENGTH = quick ? 32 : 128
const BATCHES = quick ? [1, 8] : [1, 8, 32]
const REPEATS = quick ? 1 : 2
const THREADS = Math.min(2, cpus().length)
const python = "/usr/bin/python3"
const script = nodePath.join(here, "bench_scorers_torch.py")

const tokens = (batch: number) => Array.from({ length: batch }, (_, r) => Array.from({ length: LENGTH }, (_, i) => 3 + ((r * 7919 + i * 104729) % 997)))

/** Best wall seconds of `repeats` runs of one (program, feeds) after a warm-up run. */
const bestOf = (backend: BackendService, exe: Executable, feeds: Record<string, BackendFeed>, output: string) =>
  Effect.gen(function* () {
    let best = Infinity
    for (let round = 0; round <= REPEATS; round++) {
      const start = performance.now()
      const out = yield* backend.run(exe, feeds)
      yield* backend.download(out[output]!)
      for (const t of Object.values(out)) yield* Effect.ignore(backend.release(t))
      if (round > 0) best = Math.min(best, (performance.now() - start) / 1000)
    }
    return best
  })

const upload = (backend: BackendService, weights: ReadonlyMap<string, { readonly shape: ReadonlyArray<number>; readonly data: Float32Array }>) =>
  Effect.gen(function* () {
    const uploaded: Record<string, DeviceTensor> = {}
    for (const [name, w] of weights) uploaded[name] = yield* backend.upload({ dtype: "float32", shape: [...w.shape], data: w.data } satisfies HostTensor)
    return uploaded
  })

type WeightMap = ReadonlyMap<string, { readonly shape: ReadonlyArray<number> }>
const matrices = (weights: WeightMap, keep: (name: string) => boolean) =>
  [...weights].filter(([name, w]) => w.shape.length === 2 && keep(name)).reduce((total, [, w]) => total + w.shape[0]! * w.shape[1]!, 0)

/**
 * Multiply-adds × 2 per sample of LENGTH tokens (what a float32 machine must compute at least):
 * every weight matrix once per token it touches, plus attention's QKᵀ and PV.
 */
const flopsPerSample = (kind: "rm" | "t5", weights: WeightMap, layers: number, width: number) => {
  const L = LENGTH
  if (kind === "rm") {
    // GPT-NeoX trunk over L tokens (the embedding is a lookup; the scalar head reads one token).
    return 2 * L * matrices(weights, (n) => !n.includes("embed_in") && !n.startsWith("out")) + 4 * layers * L * L * width
  }
  // T5: the encoder over L tokens; one decoder step, whose cross-attention keys/values cover the L encoder states.
  const encoder = matrices(weights, (n) => n.startsWith("encoder.") && !n.includes("relative_attention_bias"))
  const crossKv = matrices(weights, (n) => /EncDecAttention\.(k|v)\.weight$/.test(n))
  const decoderStep = matrices(weights, (n) => (n.startsWith("decoder.") && !n.includes("relative_attention_bias") && !/EncDecAttention\.(k|v)\.weight$/.test(n)) || n === "lm_head.weight")
  return 2 * (L * encoder + L * crossKv + decoderStep) + 4 * layers * (L * L + L) * width
}

const oursRewardModel = (backend: BackendService, folder: string) =>
  Effect.scoped(Effect.gen(function* () {
    const model = yield* loadScoringModel(folder, "safetensors")
    const weights = yield* upload(backend, model.weights as never)
    const seconds: Record<string, number> = {}
    for (const batch of BATCHES) {
      const shape = { batch, length: LENGTH }
      const exe = yield* backend.compile(model.program(shape))
      seconds[batch] = yield* bestOf(backend, exe, { ...weights, ...model.feeds(tokens(batch), shape) }, model.output)
    }
    const config = JSON.parse(readFileSync(nodePath.join(folder, "config.json"), "utf8")) as { num_hidden_layers: number; hidden_size: number }
    return { seconds, flops: flopsPerSample("rm", model.weights as WeightMap, config.num_hidden_layers, config.hidden_size) }
  }))

const oursUniEval = (backend: BackendService, folder: string) =>
  Effect.scoped(Effect.gen(function* () {
    const model = yield* loadT5(folder, { prefer: "safetensors" })
    const weights = yield* upload(backend, model.weights as never)
    const seconds: Record<string, number> = {}
    for (const batch of BATCHES) {
      const exe = yield* backend.compile(t5FirstStepProgram(model.config, { batch, seq: LENGTH }, "float32"))
      const feeds = { ...weights, input_ids: hostTensor("int64", [batch, LENGTH], tokens(batch).flat()), attention_mask: hostTensor("float32", [batch, LENGTH], new Array(batch * LENGTH).fill(1)) }
      seconds[batch] = yield* bestOf(backend, exe, feeds, "logits")
    }
    return { seconds, flops: flopsPerSample("t5", model.weights as WeightMap, model.config.encoderLayers, model.config.numHeads * model.config.dKv) }
  }))

const torchSeconds = (kind: "rm" | "t5") =>
  JSON.parse(execFileSync(python, [script, "time", kind, String(LENGTH), BATCHES.join(","), String(THREADS), String(REPEATS)], { encoding: "utf8" }).trim().split("\n").pop()!) as { torch: string; seconds: Record<string, number> }

const withFlops = (measured: { seconds: Record<string, number>; flops: number }) => ({ ours: measured.seconds, flops: measured.flops })

/** The float32 MatMul rate bench-compute measured on this machine (its 1024³ case), if present: the ceiling for both sides. */
const matmulPeak = (): number | null => {
  try {
    const compute = JSON.parse(readFileSync(nodePath.join(repoRoot, "bench-results/compute.json"), "utf8")) as Record<string, unknown>
    const rates = JSON.stringify(compute).match(/"(?:ours|handWritten)Gflops":\s*([0-9.]+)/g) ?? []
    const values = rates.map((r) => Number(r.split(":")[1]))
    return values.length > 0 ? Math.max(...values) : null
  } catch {
    return null
  }
}

const main = Effect.gen(function* () {
  const startLoad = loadavg()
  const root = nodePath.join(tmpdir(), "refine-af-bench-scorers")
  const folders = { rm: nodePath.join(root, "rm"), t5: nodePath.join(root, "t5") }
  for (const kind of ["rm", "t5"] as const) execFileSync(python, [script, "write", kind, folders[kind]])
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: THREADS, worker: false, float16Weights: false })
  const models = [
    { model: "reward model (Pythia-160M-shaped GPT-NeoX)", kind: "rm" as const, ...withFlops(yield* oursRewardModel(backend, folders.rm)), torch: torchSeconds("rm") },
    { model: "UniEval (T5-base-shaped, first decoder step)", kind: "t5" as const, ...withFlops(yield* oursUniEval(backend, folders.t5)), torch: torchSeconds("t5") }
  ]
  const rows = models.flatMap((m) => BATCHES.map((batch) => ({
    model: m.model,
    batch,
    tokensPerSample: LENGTH,
    oursSamplesPerSecond: batch / m.ours[batch]!,
    torchSamplesPerSecond: batch / m.torch.seconds[batch]!,
    speedup: m.torch.seconds[batch]! / m.ours[batch]!,
    gflopsPerSample: m.flops / 1e9,
    oursGflopsPerSecond: (m.flops * batch) / m.ours[batch]! / 1e9,
    torchGflopsPerSecond: (m.flops * batch) / m.torch.seconds[batch]! / 1e9
  })))
  const largest = BATCHES[BATCHES.length - 1]!
  const perSample = (m: (typeof models)[number], side: "ours" | "torch") => (side === "ours" ? m.ours[largest]! : m.torch.seconds[largest]!) / largest
  const composite = (side: "ours" | "torch") => perSample(models[0]!, side) + 3 * perSample(models[1]!, side)
  const report = {
    benchmark: "scorers",
    date: new Date().toISOString(),
    // The machine is shared: read the ratios; a load average above the core count means both sides were contended.
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
    settings: {
      tokensPerSample: LENGTH,
      batches: BATCHES,
      threads: THREADS,
      repeats: `best of ${REPEATS} after one warm-up`,
      dtype: "float32",
      baseline: `PyTorch ${models[0]!.torch.torch} CPU eager float32, the golden scripts' forwards (tools/bench-scorers/bench_scorers_torch.py)`
    },
    // Both sides must do at least gflopsPerSample of float32 arithmetic per sample; the MatMul peak bounds either.
    matmulPeakGflopsPerSecond: matmulPeak(),
    results: rows,
    compositePerInstance: {
      what: `1 reward-model pass + 3 UniEval questions per instance, ${LENGTH} tokens each, at batch ${largest}`,
      oursSeconds: composite("ours"),
      torchSeconds: composite("torch"),
      speedup: composite("torch") / composite("ours")
    }
  }
  console.log(`scorers, ${LENGTH} tokens per sample, threads ${THREADS}, load ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
  console.log("model                                            batch   ours samples/s   torch samples/s   ours/torch   ours GFLOP/s   torch GFLOP/s")
  for (const r of rows) console.log(`${r.model.padEnd(48)} ${String(r.batch).padStart(5)} ${r.oursSamplesPerSecond.toFixed(2).padStart(16)} ${r.torchSamplesPerSecond.toFixed(2).padStart(17)} ${r.speedup.toFixed(2).padStart(12)} ${r.oursGflopsPerSecond.toFixed(0).padStart(14)} ${r.torchGflopsPerSecond.toFixed(0).padStart(15)}`)
  console.log(`float32 MatMul peak measured by bench-compute on this machine: ${report.matmulPeakGflopsPerSecond?.toFixed(0) ?? "unknown"} GFLOP/s`)
  console.log(`composite per instance (${report.compositePerInstance.what}): ours ${(1000 * composite("ours")).toFixed(1)} ms, torch ${(1000 * composite("torch")).toFixed(1)} ms, ${report.compositePerInstance.speedup.toFixed(2)}x`)
  rmSync(root, { recursive: true, force: true })
  if (!quick) {
    mkdirSync(nodePath.join(repoRoot, "bench-results"), { recursive: true })
    writeFileSync(nodePath.join(repoRoot, "bench-results/scorers.json"), JSON.stringify(report, null, 2) + "\n")
    console.log("wrote bench-results/scorers.json")
  }
})

Effect.runPromise(Effect.scoped(main)).catch((error) => {
  console.error(error)
  process.exit(1)
})
