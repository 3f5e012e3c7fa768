/**
 * phi3's fused projections against the split ones, side by side in one run:
 * three decoders of identical sizes (12 layers, hidden 768, 12 query / 4 kv
 * heads, MLP 2048, a 32,000-token head; random weights our tool writes) that
 * differ only in layout — `llama` (q, k, v, gate, up apart), `phi3` (one
 * `qkv_proj` and one `gate_up_proj`, each sliced after its product) and
 * `phi3-partial` (phi3 rotating 3/4 of each head, as Phi-4-mini does). Each
 * generates 64 greedy tokens after a 32-token prompt at batch 1 and 8, loaded
 * as `refine-af run` loads a folder, in interleaved rounds; the table gives
 * each contender's median tokens/s and its ratio to `llama`. Writes
 * bench-results/fused-projections.json with the load average before and after.
 *
 *   npx tsx tools/bench-llama/fused-projections.ts [--rounds 5]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { generateTokens, loadLlama } from "@refine-af/model-llama"
import { TINY_PRESETS, writeTinyModel } from "@refine-af/models"
import { Effect } from "effect"
import { benchOutFile } from "../gpu-check/bench-env.ts"

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "../..")
const at = process.argv.indexOf("--rounds")
const ROUNDS = at >= 0 ? Number(process.argv[at + 1]) : 5
const NEW_TOKENS = 64
const PROMPT = 32
const BATCHES = [1, 8] as const

const sizes = { vocab_size: 32000, hidden_size: 768, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 12, num_key_value_heads: 4, head_dim: undefined, max_position_embeddings: 4096 }
const phi3 = { ...TINY_PRESETS.phi3, ...sizes, rope_scaling: null, sliding_window: null, original_max_position_embeddings: 4096 }
const CONTENDERS = {
  llama: { ...TINY_PRESETS.llama, ...sizes, rope_scaling: null },
  phi3: { ...phi3, partial_rotary_factor: 1 },
  "phi3-partial": { ...phi3, partial_rotary_factor: 0.75 }
} as const
type Name = keyof typeof CONTENDERS

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const program = Effect.scoped(Effect.gen(function* () {
  const root = mkdtempSync(nodePath.join(tmpdir(), "fused-projections-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(root, { recursive: true, force: true })))
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
  const models = {} as Record<Name, Effect.Success<ReturnType<typeof loadLlama>>>
  for (const [name, config] of Object.entries(CONTENDERS) as Array<[Name, Record<string, unknown>]>) {
    const folder = nodePath.join(root, name)
    yield* writeTinyModel({ out: folder, config, seed: 0 })
    models[name] = yield* loadLlama(folder, backend, { contextLength: 512, maxBatch: 8 })
  }
  const prompt = (row: number) => Array.from({ length: PROMPT }, (_, i) => ((i * 37 + row * 11) % 30000) + 100)
  const decode = (name: Name, batch: number) =>
    Effect.gen(function* () {
      const model = models[name]
      const requests = Array.from({ length: batch }, (_, row) => ({ promptIds: prompt(row), params: { maxNewTokens: NEW_TOKENS, temperature: 0 } }))
      const start = performance.now()
      yield* generateTokens(model.runtime, requests, { tokenizer: model.tokenizer, eosIds: new Set(), contextLength: 512, maxBatch: 8 })
      return (batch * NEW_TOKENS) / ((performance.now() - start) / 1000)
    })
  // Warm every program once, then interleave the contenders round by round.
  for (const name of Object.keys(CONTENDERS) as Array<Name>) for (const batch of BATCHES) yield* decode(name, batch)
  const startLoad = loadavg()
  const rates: Record<string, Array<number>> = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const batch of BATCHES) for (const name of Object.keys(CONTENDERS) as Array<Name>) (rates[`${name} b${batch}`] ??= []).push(yield* decode(name, batch))
  }
  const endLoad = loadavg()
  const rows = BATCHES.flatMap((batch) =>
    (Object.keys(CONTENDERS) as Array<Name>).map((name) => {
      const tokensPerSecond = median(rates[`${name} b${batch}`]!)
      return { contender: name, batch, tokensPerSecond, vsLlama: tokensPerSecond / median(rates[`llama b${batch}`]!), rounds: rates[`${name} b${batch}`]! }
    }))
  console.log("contender      batch  tokens/s (median)  × llama   rounds")
  for (const r of rows) console.log(`${r.contender.padEnd(14)} ${String(r.batch).padStart(5)}  ${r.tokensPerSecond.toFixed(1).padStart(17)}  ${r.vsLlama.toFixed(3).padStart(7)}   ${r.rounds.map((v) => v.toFixed(1)).join(" ")}`)
  console.log(`load average ${startLoad.map((l) => l.toFixed(2)).join(" ")} → ${endLoad.map((l) => l.toFixed(2)).join(" ")}`)
  const out = benchOutFile(nodePath.join(repoRoot, "bench-results/fused-projections.json"))
  mkdirSync(nodePath.dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify({
    tool: "bench-llama/fused-projections",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: endLoad },
    sizes: { ...sizes, head_dim: 64 },
    promptTokens: PROMPT,
    newTokens: NEW_TOKENS,
    rounds: ROUNDS,
    results: rows
  }, null, 2) + "\n")
  console.log(`wrote ${out}`)
}))

await Effect.runPromise(program)
