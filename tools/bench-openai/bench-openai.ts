/**
 * Scale-out benchmark, side by side in one session (loopback only):
 *
 *   (a) Self-Instruct bootstrap generation (the real CLI and recipe, openai/lm client)
 *       through one vs two local `refine-af serve` processes of a random Llama (the 30M
 *       shape with the tokenizer's 152k vocabulary, tied embeddings: ~75M parameters),
 *       each server on one onnxruntime thread: a stand-in for one machine per server on
 *       this 2-core box (two servers with a thread per core would only share the same
 *       cores). The model is random, so the filters reject its text; the throughput of
 *       the generation requests is what is measured (the trained 1M speaker's requests
 *       take ~1 ms per step, so its stage time was the client's own filtering)
 *   (b) 8 concurrent clients against one `serve` vs the same 8 requests one by one
 *       (concurrent requests join model-llama's continuous batch), on the speaker and on a
 *       30M-shaped random Llama (a bigger share of each step is weight traffic)
 *   (c) client overhead per request: openai/lm over HTTP to an in-process server of a
 *       scripted (zero-compute) model vs calling that model directly
 *
 * Prints a table and writes bench-results/openai.json with os.loadavg() before and after.
 * The machine is shared: read the ratios, not the absolute times.
 *
 * Run:   npx tsx tools/bench-openai/bench-openai.ts
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { openOpenAiModel } from "@refine-af/lm-openai"
import { startOpenAiServer } from "@refine-af/openai"
import { scriptedLanguageModel } from "@refine-af/testing"
import { makeTinyModel } from "../tiny-model/make-tiny-model.ts"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
const bin = path.join(repoRoot, "packages/cli/bin/refine-af.js")
const temp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `refine-af-bench-openai-${name}-`))
const modelsDir = temp("models")
const loadBefore = os.loadavg()

/** A recipe `serve` exposes: the model on the CPU backend, continuous batches of up to 8 rows. */
const writeServeRecipe = (name: string, model: ReadonlyArray<string>, threads = 0) => {
  const file = path.join(temp("serve"), name)
  fs.writeFileSync(file, [
    "name: bench-openai-serve",
    "seed: 42",
    "plugins: [\"@refine-af/backend-onnx\", \"@refine-af/model-llama\", \"@refine-af/generator-self-instruct\"]",
    "resources:",
    "  compute:",
    "    _component_: backend-onnx/onnx",
    `    threads: ${threads}`,
    "  policy:",
    "    _component_: llama/hf",
    "    backend: compute",
    ...model,
    "    max_context: 1024",
    "    max_batch: 8",
    "stages:", // a recipe needs a stage; serve only makes the resource
    "  instructions: { _component_: self-instruct/bootstrap, model: policy, target: 4 }",
    ""
  ].join("\n"))
  return file
}
/** The built-in trained speaker (a random model's text is all rejected by the bootstrap filters). */
const serveRecipe = writeServeRecipe("serve-speaker.yaml", ["    builtin: speaker"])

const startServe = async (recipe: string): Promise<{ base: string; child: ChildProcess }> => {
  const child = spawn(process.execPath, [bin, "serve", recipe, "--resource", "policy", "--port", "0"], { cwd: repoRoot, env: { ...process.env, REFINE_AF_MODELS: modelsDir }, stdio: ["ignore", "pipe", "pipe"] })
  let out = ""
  child.stdout!.on("data", (c) => (out += c))
  child.stderr!.on("data", () => undefined)
  for (;;) {
    const match = /at (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out)
    if (match) return { base: match[1]!, child }
    if (child.exitCode !== null) throw new Error(`serve exited: ${out}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const complete = async (base: string, prompt: string, maxTokens: number) => {
  const response = await fetch(`${base}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "policy", prompt, max_tokens: maxTokens, temperature: 0 }) })
  const body = (await response.json()) as { usage: { completion_tokens: number } }
  return body.usage.completion_tokens
}

const seconds = async (work: () => Promise<unknown>) => {
  const started = performance.now()
  await work()
  return (performance.now() - started) / 1000
}

// (b) batching across HTTP requests: the built-in speaker (about 1M parameters, so a step is
// mostly fixed per-run overhead) and a 30M-shaped random Llama (bench-llama's; a step is mostly
// weight traffic), each served alone.
const prompts = Array.from({ length: 8 }, (_, i) => `Write a short note about topic ${i + 1}:`)
const maxTokens = 64
const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[values.length >> 1]!
const measureBatching = async (model: string, base: string) => {
  await complete(base, prompts[0]!, maxTokens)
  await Promise.all(prompts.map((p) => complete(base, p, maxTokens)))
  // Greedy decoding: both ways produce the same tokens, so the work is the same (counted below).
  const completionTokens = (await Promise.all(prompts.map((p) => complete(base, p, maxTokens)))).reduce((a, b) => a + b, 0)
  const sequential: Array<number> = []
  const concurrent: Array<number> = []
  // Seven alternating rounds: the timings are tenths of a second on a shared machine.
  for (let round = 0; round < 7; round++) {
    sequential.push(await seconds(async () => {
      for (const p of prompts) await complete(base, p, maxTokens)
    }))
    concurrent.push(await seconds(() => Promise.all(prompts.map((p) => complete(base, p, maxTokens)))))
  }
  return {
    model, requests: prompts.length, maxTokens, completionTokens,
    sequentialSeconds: Math.min(...sequential), concurrentSeconds: Math.min(...concurrent),
    speedup: Math.min(...sequential) / Math.min(...concurrent),
    medianSpeedup: median(sequential) / median(concurrent),
    rounds: { sequential, concurrent }
  }
}
const serveA = await startServe(serveRecipe)
const batching = [await measureBatching("builtin speaker (1M)", serveA.base)]
serveA.child.kill("SIGTERM")
const llama30m = temp("llama-30m")
await makeTinyModel({ out: llama30m, config: "llama", seed: 0, overrides: { rope_scaling: null, tie_word_embeddings: false, vocab_size: 32000, head_dim: 64, max_position_embeddings: 2048, rms_norm_eps: 1e-5, hidden_size: 384, intermediate_size: 1024, num_hidden_layers: 4, num_attention_heads: 6, num_key_value_heads: 6 } })
const llama30mModel = [`    path: ${JSON.stringify(llama30m)}`]
const serve30m = await startServe(writeServeRecipe("serve-30m.yaml", llama30mModel))
batching.push(await measureBatching("random llama-30m", serve30m.base))
serve30m.child.kill("SIGTERM")
// The same model with its weights baked into each program: onnxruntime pre-packs constant weights for
// its matmul kernels (faster at batch 8), at the price of a copy per program (fine for a 30M model).
const serve30mBaked = await startServe(writeServeRecipe("serve-30m-baked.yaml", [...llama30mModel, "    weight_mode: baked"]))
batching.push(await measureBatching("random llama-30m, weight_mode baked", serve30mBaked.base))
serve30mBaked.child.kill("SIGTERM")

// (a) bootstrap through one vs two servers, each on one thread. The bootstrap's prompts use the whole
// tokenizer (Qwen3's, which tools/tiny-model ships), so this model has its vocabulary (tied embeddings).
const llamaQwenVocab = temp("llama-qwen-vocab")
await makeTinyModel({ out: llamaQwenVocab, config: "llama", seed: 0, overrides: { rope_scaling: null, tie_word_embeddings: true, vocab_size: 151936, head_dim: 64, max_position_embeddings: 2048, rms_norm_eps: 1e-5, hidden_size: 384, intermediate_size: 1024, num_hidden_layers: 4, num_attention_heads: 6, num_key_value_heads: 6 } })
const singleThreaded = writeServeRecipe("serve-1thread.yaml", [`    path: ${JSON.stringify(llamaQwenVocab)}`], 1)
const scaleA = await startServe(singleThreaded)
const scaleB = await startServe(singleThreaded)
for (const s of [scaleA, scaleB]) await Promise.all(prompts.map((p) => complete(s.base, p, 32)))
const bootstrapBatch = 16
const bootstrapSteps = 2
const bootstrap = (endpoints: ReadonlyArray<string>) => {
  const dir = temp("recipe")
  const file = path.join(dir, "recipe.yaml")
  fs.writeFileSync(file, [
    "name: bench-openai-bootstrap",
    "seed: 42",
    "plugins: [\"@refine-af/lm-openai\", \"@refine-af/generator-self-instruct\"]",
    "resources:",
    "  policy:",
    "    _component_: openai/lm",
    "    model: policy",
    `    endpoints: [${endpoints.map((url) => `{ url: "${url}", max_concurrency: 8 }`).join(", ")}]`,
    "    score: unsupported",
    "    context_length: 512",
    "stages:",
    "  instructions:",
    "    _component_: self-instruct/bootstrap",
    "    model: policy",
    "    target: 1000",
    `    batchSize: ${bootstrapBatch}`,
    `    maxSteps: ${bootstrapSteps}`,
    "    maxIdleSteps: 2",
    "    sampling: { maxNewTokens: 32, temperature: 1.5, topP: 1 }",
    ""
  ].join("\n"))
  const started = performance.now()
  const result = spawnSync(process.execPath, [bin, "run", file, "--runs-dir", path.join(dir, "runs"), "--no-cache"], { cwd: repoRoot, encoding: "utf8" })
  const wall = (performance.now() - started) / 1000
  if (result.status !== 0) throw new Error(`bootstrap run failed: ${result.stderr}`)
  const runDir = path.join(dir, "runs", fs.readdirSync(path.join(dir, "runs"))[0]!)
  const manifest = JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as { stages: Record<string, { durationMs?: number; metrics?: Record<string, number> }> }
  const stage = manifest.stages["instructions"]!
  return { endpoints: endpoints.length, wallSeconds: wall, stageSeconds: (stage.durationMs ?? 0) / 1000, metrics: stage.metrics ?? {} }
}
// Alternating, so a change in the machine's load hits both sides.
const oneServer: Array<ReturnType<typeof bootstrap>> = []
const twoServers: Array<ReturnType<typeof bootstrap>> = []
for (let round = 0; round < 2; round++) {
  oneServer.push(bootstrap([scaleA.base]))
  twoServers.push(bootstrap([scaleA.base, scaleB.base]))
}
const best = (rows: typeof oneServer) => rows.reduce((a, b) => (b.stageSeconds < a.stageSeconds ? b : a))
const requestsPerRun = bootstrapSteps * bootstrapBatch
const scaleOut = {
  model: "random llama (30M shape, 152k vocabulary, tied: ~75M), threads: 1 per server",
  one: best(oneServer), two: best(twoServers),
  speedup: best(oneServer).stageSeconds / best(twoServers).stageSeconds,
  requestsPerRun,
  requestsPerSecond: { one: requestsPerRun / best(oneServer).stageSeconds, two: requestsPerRun / best(twoServers).stageSeconds }
}
scaleA.child.kill("SIGTERM")
scaleB.child.kill("SIGTERM")

// (c) client overhead per request.
const scripted = scriptedLanguageModel(() => ({ text: "a reply of a few words" }))
const server = await startOpenAiServer({ model: scripted, modelName: "scripted", port: 0 })
const opened = openOpenAiModel({ model: "scripted", endpoints: [{ url: server.baseUrl }] }, {})
const request = { prompt: "hello there", params: { maxNewTokens: 16, seed: 1 } }
const perRequest = async (call: () => Promise<unknown>, n: number) => {
  for (let i = 0; i < 50; i++) await call()
  const started = performance.now()
  for (let i = 0; i < n; i++) await call()
  return ((performance.now() - started) / n) * 1000
}
const n = 400
const directUs = await perRequest(() => Effect.runPromise(scripted.generate([request])), n)
const httpUs = await perRequest(() => Effect.runPromise(opened.service.generate([request])), n)
opened.client.close()
await server.close()
const overhead = { requests: n, directMicroseconds: directUs, httpMicroseconds: httpUs, overheadMicroseconds: httpUs - directUs }

const loadAfter = os.loadavg()
const table = [
  ...batching.map((b) => [`(b) 8 × ${maxTokens} tokens, ${b.model}`, "sequential", `${b.sequentialSeconds.toFixed(2)} s`, "concurrent", `${b.concurrentSeconds.toFixed(2)} s`, `${b.speedup.toFixed(2)}x (median ${b.medianSpeedup.toFixed(2)}x)`]),
  [`(a) bootstrap ${requestsPerRun} requests, ~75M, 1 thread each`, "1 serve", `${scaleOut.one.stageSeconds.toFixed(2)} s`, "2 serves", `${scaleOut.two.stageSeconds.toFixed(2)} s`, `${scaleOut.speedup.toFixed(2)}x`],
  ["(c) per request, scripted model", "direct", `${directUs.toFixed(1)} µs`, "over HTTP", `${httpUs.toFixed(1)} µs`, `+${overhead.overheadMicroseconds.toFixed(0)} µs`]
]
for (const row of table) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(52) : cell.padEnd(12))).join(" "))
console.log(`loadavg before ${loadBefore.map((v) => v.toFixed(2)).join(" ")}, after ${loadAfter.map((v) => v.toFixed(2)).join(" ")} on ${os.cpus().length} CPUs`)
fs.mkdirSync(path.join(repoRoot, "bench-results"), { recursive: true })
fs.writeFileSync(path.join(repoRoot, "bench-results/openai.json"), JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadAfter, batching, scaleOut: { ...scaleOut, runs: { one: oneServer, two: twoServers } }, overhead }, null, 2) + "\n")
process.exit(0)
