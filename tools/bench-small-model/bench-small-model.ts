/**
 * What a CPU run of the loop costs on a current small model: a Qwen3-0.6B-shaped
 * decoder (random weights our tool writes: 28 layers, hidden 1024, 16 query / 8 kv
 * heads of 128, a 151,936-token tied vocabulary), or with `--model gemma3-270m` a
 * Gemma-3-270M-shaped one (18 layers, hidden 640, 4 query / 1 kv heads of 256, five
 * 512-token sliding layers per full one, a 262,144-token tied vocabulary: 170M of its
 * 270M weights), loaded as `refine-af run` loads it, at float32 and int8, side by side
 * in one run:
 *
 *   load          from the folder (first load of a precision also writes its weight cache)
 *   generate      16 rows × 128 new tokens (sampled; random weights never stop early) after
 *                 a ~600-token prompt (a Self-Instruct bootstrap prompt's length) and a
 *                 ~250-token one (an instance or SuperNI prompt), tokens/s over the rows
 *   score         log-probabilities of 16 rows × 384 tokens (PPO's evaluation passes, SFT-free), tokens/s
 *   LoRA step     one AdamW step of a rank-16 LoRA on q/k/v/o over 4 × 256 tokens, tokens/s
 *
 * The recipes/small header sizes its budgets from these figures. Prints a table and writes
 * bench-results/small-model-<model>.json with the load average before and after. The
 * tokenizer is the tiny models' (Qwen3's), whatever the shape: only the shapes are timed.
 *
 *   npx tsx tools/bench-small-model/bench-small-model.ts [--model qwen3-0.6b|gemma3-270m] [--precisions float32,int8] [--quick]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir, totalmem } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { loadLlama, scoreSequences } from "@refine-af/model-llama"
import { TINY_PRESETS, writeTinyModel } from "@refine-af/models"
import { nllObjective } from "@refine-af/training"
import { Effect } from "effect"

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "../..")
const argument = (name: string) => {
  const at = process.argv.indexOf(name)
  return at < 0 ? undefined : process.argv[at + 1]
}
const precisions = (argument("--precisions") ?? "float32,int8").split(",") as Array<"float32" | "int8" | "int4">
const quick = process.argv.includes("--quick")
const NEW_TOKENS = quick ? 16 : 128
const ROWS = 16

/** Qwen3-0.6B(-Base)'s config.json shape, in transformers 5's layout. */
export const QWEN3_0_6B = {
  ...TINY_PRESETS.qwen3,
  vocab_size: 151936,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  max_position_embeddings: 40960,
  use_sliding_window: false,
  sliding_window: null,
  max_window_layers: 28,
  layer_types: Array.from({ length: 28 }, () => "full_attention"),
  tie_word_embeddings: true,
  rope_parameters: { rope_type: "default", rope_theta: 1000000 }
}

/** Gemma 3 270M's config.json shape (gemma3_text, transformers 4.5x layout). */
export const GEMMA3_270M = {
  ...TINY_PRESETS.gemma3_text,
  vocab_size: 262144,
  hidden_size: 640,
  intermediate_size: 2048,
  num_hidden_layers: 18,
  num_attention_heads: 4,
  num_key_value_heads: 1,
  head_dim: 256,
  query_pre_attn_scalar: 256,
  max_position_embeddings: 32768,
  rope_theta: 1000000,
  rope_scaling: null,
  rope_local_base_freq: 10000,
  sliding_window: 512,
  sliding_window_pattern: 6,
  tie_word_embeddings: true
}

const MODELS = {
  "qwen3-0.6b": { config: QWEN3_0_6B, description: "Qwen3-0.6B shape, random weights" },
  "gemma3-270m": { config: GEMMA3_270M, description: "Gemma 3 270M shape, random weights" }
} as const
const modelName = argument("--model") ?? "qwen3-0.6b"
if (!(modelName in MODELS)) throw new Error(`--model must be one of ${Object.keys(MODELS).join(", ")}`)
const model = MODELS[modelName as keyof typeof MODELS]

const work = mkdtempSync(nodePath.join(tmpdir(), "refine-af-bench-small-"))
const folder = nodePath.join(work, modelName)
const seconds = (from: number) => (performance.now() - from) / 1000

/** An instruction-like text long enough to cut `tokens` tokens from. */
const longText = (tokens: number) =>
  "Come up with a series of tasks:\n\n" + Array.from({ length: Math.ceil(tokens / 10) }, (_, i) => `${i + 1}. Instruction: Write a short story about a lighthouse keeper who finds a message.\n`).join("")

const measure = (precision: "float32" | "int8" | "int4") =>
  Effect.gen(function* () {
    const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
    let t = performance.now()
    const loaded = yield* loadLlama(folder, backend, { contextLength: 2048, maxBatch: ROWS, precision: { precision, cacheRoot: nodePath.join(work, "cache") } })
    const load = seconds(t)
    const generate: Record<string, { promptTokens: number; tokensPerSecond: number; seconds: number }> = {}
    /** A prompt of `tokens` tokens (± the one a re-encoding may merge at the cut). */
    const promptOf = (tokens: number) => loaded.tokenizer.decode(loaded.tokenizer.encode(longText(tokens)).slice(0, tokens))
    for (const length of [600, 250]) {
      const prompt = promptOf(length)
      const requests = Array.from({ length: ROWS }, (_, i) => ({ prompt: `${prompt}${i}.`, params: { maxNewTokens: NEW_TOKENS, temperature: 1, seed: i } }))
      yield* loaded.service.generate(requests.slice(0, 2).map((r) => ({ ...r, params: { ...r.params, maxNewTokens: 2 } })))  // compile outside the timing
      t = performance.now()
      const out = yield* loaded.service.generate(requests)
      const s = seconds(t)
      const tokens = out.reduce((n, g) => n + (g.tokenIds?.length ?? 0), 0)
      generate[`prompt${length}`] = { promptTokens: loaded.tokenizer.encode(`${prompt}0.`).length, tokensPerSecond: tokens / s, seconds: s }
    }
    const scoreIds = loaded.tokenizer.encode(longText(384)).slice(0, 384)
    yield* scoreSequences(loaded.runtime, [{ ids: scoreIds, from: 1 }], ROWS)
    t = performance.now()
    yield* scoreSequences(loaded.runtime, Array.from({ length: ROWS }, (_, i) => ({ ids: [i + 10, ...scoreIds.slice(1)], from: 1 })), ROWS)
    const scoreSeconds = seconds(t)
    const session = yield* loaded.policy.session({ lora: { rank: 16, alpha: 32, dropout: 0, rsLora: false, targets: ["q_proj", "k_proj", "v_proj", "o_proj"] }, seed: 7 })
    const trainIds = loaded.tokenizer.encode(longText(256)).slice(0, 256)
    const batch = Array.from({ length: 4 }, (_, i) => ({ tokens: [i + 10, ...trainIds.slice(1)], promptLength: 64 }))
    yield* session.step(nllObjective, batch, {}, { lr: 1e-4, clipGradNorm: 1 })
    const steps: Array<number> = []
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      t = performance.now()
      yield* session.step(nllObjective, batch, {}, { lr: 1e-4, clipGradNorm: 1 })
      steps.push(seconds(t))
    }
    const step = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]!
    return {
      precision,
      loadSeconds: load,
      generate,
      score: { rows: ROWS, tokens: scoreIds.length, tokensPerSecond: (ROWS * scoreIds.length) / scoreSeconds, seconds: scoreSeconds },
      loraStep: { rows: 4, tokens: trainIds.length, medianSeconds: step, tokensPerSecond: (4 * trainIds.length) / step, seconds: steps }
    }
  }).pipe(Effect.scoped)

const main = Effect.gen(function* () {
  const loadBefore = loadavg()
  yield* writeTinyModel({ out: folder, config: model.config, seed: 0 })
  const rows: Array<Effect.Success<ReturnType<typeof measure>>> = []
  for (const precision of precisions) {
    const row = yield* measure(precision)
    rows.push(row)
    console.log(`${precision}: load ${row.loadSeconds.toFixed(1)} s; generate ${Object.entries(row.generate).map(([k, g]) => `${k} ${g.tokensPerSecond.toFixed(1)} tok/s`).join(", ")}; score ${row.score.tokensPerSecond.toFixed(0)} tok/s; LoRA step ${row.loraStep.medianSeconds.toFixed(2)} s (${row.loraStep.tokensPerSecond.toFixed(0)} tok/s)`)
  }
  const loadAfter = loadavg()
  console.log("\n| precision | load s | generate, 600-token prompts | generate, 250-token prompts | score tok/s | LoRA step s (4 × 256) |")
  console.log("|---|---|---|---|---|---|")
  for (const r of rows) console.log(`| ${r.precision} | ${r.loadSeconds.toFixed(1)} | ${r.generate["prompt600"]!.tokensPerSecond.toFixed(1)} tok/s | ${r.generate["prompt250"]!.tokensPerSecond.toFixed(1)} tok/s | ${r.score.tokensPerSecond.toFixed(0)} | ${r.loraStep.medianSeconds.toFixed(2)} |`)
  if (rows.length > 1) console.log(`ratios vs ${rows[0]!.precision}: ${rows.slice(1).map((r) => `${r.precision} generate ×${(r.generate["prompt250"]!.tokensPerSecond / rows[0]!.generate["prompt250"]!.tokensPerSecond).toFixed(2)}, LoRA step ×${(rows[0]!.loraStep.medianSeconds / r.loraStep.medianSeconds).toFixed(2)}`).join("; ")}`)
  console.log(`load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} → ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`)
  const out = nodePath.join(repoRoot, "bench-results", `small-model-${modelName}${quick ? "-quick" : ""}.json`)
  mkdirSync(nodePath.dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify({
    benchmark: "tools/bench-small-model",
    date: new Date().toISOString(),
    host: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: totalmem() / 2 ** 30, loadBefore, loadAfter },
    model: model.description,
    newTokens: NEW_TOKENS,
    rows
  }, null, 1)}\n`)
  console.log(`wrote ${nodePath.relative(repoRoot, out)}`)
})

Effect.runPromise(main).then(
  () => rmSync(work, { recursive: true, force: true }),
  (error) => {
    rmSync(work, { recursive: true, force: true })
    console.error(error)
    process.exit(1)
  }
)
