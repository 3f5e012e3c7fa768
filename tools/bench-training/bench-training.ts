/**
 * Benchmark: one `sft/lora` training step (PolicySession.step with the NLL
 * objective: forward + backward + clipping + AdamW in one ONNX program, CPU)
 * vs the same LoRA step hand-written in PyTorch eager (sft_step_torch.py) on
 * the same safetensors weights, batch and response mask. Rounds alternate
 * between the two (fair under shared-machine load); prints a table and
 * writes bench-results/training-sft.json with os.loadavg().
 *
 *   npx tsx tools/bench-training/bench-training.ts [--steps 5] [--rounds 2] [--threads 2]
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { makeLlamaPolicyModel, makeLlamaRuntime } from "@refine-af/model-llama"
import { loadModelFolder, loadTokenizer, loadWeights, openWeights } from "@refine-af/models"
import { nllObjective, type TokenSequence } from "@refine-af/training"
import { Effect } from "effect"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../..")
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const steps = arg("steps", 5)
const rounds = arg("rounds", 2)
const threads = arg("threads", 2)
const shape = { batch: 4, length: 64, prompt: 16 }
const lora = { rank: 8, alpha: 16, targets: ["q_proj", "k_proj", "v_proj", "o_proj"] }
const sets = { hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 4096 }

const folder = path.join(os.tmpdir(), "refine-af-bench-training-model")
if (!existsSync(path.join(folder, "model.safetensors")))
  execFileSync(path.join(root, "node_modules/.bin/tsx"), [path.join(root, "tools/tiny-model/make-tiny-model.ts"), "--preset", "llama", "--out", folder, ...Object.entries(sets).flatMap(([k, v]) => ["--set", `${k}=${v}`])], { stdio: "inherit" })

const ids = Array.from({ length: shape.batch }, (_, r) => Array.from({ length: shape.length }, (_, i) => (r * 7919 + i * 31 + 3) % sets.vocab_size))
const batch: Array<TokenSequence> = ids.map((tokens) => ({ tokens, promptLength: shape.prompt }))
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const ours = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads, worker: false, float16Weights: false })
  const model = yield* loadModelFolder(folder)
  const weights = yield* loadWeights(yield* openWeights(model), model.config, folder)
  const runtime = makeLlamaRuntime(backend, model.config, weights, { contextLength: shape.length, padTokenId: 0 })
  const policy = yield* makeLlamaPolicyModel({ runtime, tokenizer: yield* loadTokenizer(folder), id: "bench", contextLength: shape.length, eosIds: new Set([2]), maxBatch: shape.batch })
  const session = yield* policy.session({ lora: { ...lora, dropout: 0, rsLora: false }, seed: 0 })
  const compileStart = performance.now()
  yield* session.step(nllObjective, batch, {}, { lr: 1e-3, clipGradNorm: 1 })
  const firstStepMs = performance.now() - compileStart
  const perRound: Array<Array<number>> = []
  const torchRounds: Array<{ ms: Array<number>; version: string; threads: number }> = []
  for (let round = 0; round < rounds; round++) {
    const ms: Array<number> = []
    for (let s = 0; s < steps; s++) {
      const t = performance.now()
      yield* session.step(nllObjective, batch, {}, { lr: 1e-3, clipGradNorm: 1 })
      ms.push(performance.now() - t)
    }
    perRound.push(ms)
    const out = execFileSync("/usr/bin/python3", [path.join(here, "sft_step_torch.py"), folder, String(shape.batch), String(shape.length), String(shape.prompt), String(lora.rank), String(lora.alpha), lora.targets.join(","), String(steps + 1), String(threads)], { encoding: "utf8" })
    const parsed = JSON.parse(out.trim().split("\n").pop()!) as { ms: Array<number>; version: string; threads: number }
    torchRounds.push({ ...parsed, ms: parsed.ms.slice(1) })
  }
  return { firstStepMs, ms: perRound.flat(), torch: torchRounds }
})))

const tokens = shape.batch * shape.length
const oursMs = median(ours.ms)
const torchMs = median(ours.torch.flatMap((r) => r.ms))
const result = {
  benchmark: "sft-lora-step",
  model: { preset: "llama", ...sets },
  shape,
  lora,
  threads,
  loadavg: os.loadavg(),
  ours: { medianMs: oursMs, tokensPerSecond: (tokens / oursMs) * 1000, firstStepMsIncludingCompile: ours.firstStepMs, ms: ours.ms },
  pytorch: { version: ours.torch[0]!.version, threads: ours.torch[0]!.threads, medianMs: torchMs, tokensPerSecond: (tokens / torchMs) * 1000, ms: ours.torch.flatMap((r) => r.ms) },
  speedup: torchMs / oursMs
}
console.log(`SFT LoRA step, batch ${shape.batch} × ${shape.length} tokens, rank ${lora.rank} on ${lora.targets.join("/")}, ${threads} threads, load ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`)
console.log("impl              median ms   tokens/s")
console.log(`ours (onnx cpu)   ${oursMs.toFixed(1).padStart(9)}   ${result.ours.tokensPerSecond.toFixed(0).padStart(8)}`)
console.log(`pytorch eager     ${torchMs.toFixed(1).padStart(9)}   ${result.pytorch.tokensPerSecond.toFixed(0).padStart(8)}`)
console.log(`speedup (pytorch ms / ours ms): ${result.speedup.toFixed(2)}x`)
mkdirSync(path.join(root, "bench-results"), { recursive: true })
writeFileSync(path.join(root, "bench-results", "training-sft.json"), JSON.stringify(result, null, 2) + "\n")
