/**
 * PPO step benchmark: one `ppo/train` iteration's phases on our stack
 * (`llama/hf`'s PolicyModel over backend-onnx CPU) against the same step
 * hand-written in PyTorch CPU eager (bench_ppo_torch.py), same safetensors
 * model, same shapes, side by side in one run:
 * sample (B prompts × P tokens → T new tokens, temperature 1), evaluate (policy
 * with values + entropy, and the reference = adapter off), train (MB minibatches
 * of the PPO objective: forward + backward + AdamW each). Reward time is the
 * rule reward on the decoded texts (ours only; the torch side has no tokenizer).
 * Ours runs twice, the policy heads on the completions' window (the default,
 * as the torch side and TRL's `logits_to_keep`) and on every position
 * (`headWindow: full`, as before windows), so their ratio is measured in the
 * same run. A fifth phase samples k = 4 completions of each of B / 4 prompts
 * (GRPO's and RLOO's groups, the quickstart's rollouts per prompt), same
 * shapes: rows with one prompt share its prefill, where the torch side (as
 * Hugging Face's `generate` with repeated prompts) prefills every row. Those
 * grouped rollouts are then evaluated and trained on (minibatches of whole
 * groups), where rows of one prompt share its pass through the decoder; a third
 * contender, `sharePrompts: false`, measures the same phases without sharing
 * (the torch side has none: its figures there are its plain phases').
 *
 *   npx tsx tools/bench-rl/bench-ppo.ts [--quick] [--prompt-tokens P]
 *
 * Prints a table and writes bench-results/ppo-step.json (P = 32, the default)
 * or ppo-step-p<P>.json (not with --quick).
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { makeLlamaPolicyModel, makeLlamaRuntime } from "@refine-af/model-llama"
import { loadModelFolder, loadTokenizer, loadWeights, openWeights } from "@refine-af/models"
import { ppoObjective } from "@refine-af/training"
import { makeTinyModel } from "../tiny-model/make-tiny-model.ts"

const here = nodePath.dirname(fileURLToPath(import.meta.url))
const repoRoot = nodePath.resolve(here, "../..")
const quick = process.argv.includes("--quick")
const B = 8
const promptFlag = process.argv.indexOf("--prompt-tokens")
const P = promptFlag >= 0 ? Number(process.argv[promptFlag + 1]) : 32
if (!Number.isInteger(P) || P < 1) throw new Error(`--prompt-tokens needs a positive integer, got ${process.argv[promptFlag + 1]}`)
const T = quick ? 8 : 32
const MB = 2
const RANK = 8
const REPEATS = quick ? 1 : 3
const THREADS = Math.min(2, cpus().length)
const MODEL = { name: "llama-30m", overrides: { rope_scaling: null, tie_word_embeddings: false, vocab_size: 32000, head_dim: 64, max_position_embeddings: 2048, rms_norm_eps: 1e-5, hidden_size: 384, intermediate_size: 1024, num_hidden_layers: 4, num_attention_heads: 6, num_key_value_heads: 6 } }

const prompts = Array.from({ length: B }, (_, r) => Array.from({ length: P }, (_, i) => 3 + (((r + 1) * 7919 + i * 104729) % 497)))
const GROUP = 4
const grouped = prompts.map((_, r) => prompts[Math.floor(r / GROUP)]!)

/** Resets this process's resident-set high-water mark (Linux `/proc/self/clear_refs`; a no-op elsewhere). */
const resetPeak = () => {
  try {
    writeFileSync("/proc/self/clear_refs", "5")
  } catch {
    // not Linux, or not allowed: the peak then covers the whole process so far
  }
}

/** Peak resident set (MiB) since the last reset, from `/proc/self/status` (VmHWM), else Node's maxRSS. */
const peakMiB = (): number => {
  try {
    const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("VmHWM:"))
    if (line !== undefined) return Number(line.split(/\s+/)[1]) / 1024
  } catch {
    // fall through
  }
  return process.resourceUsage().maxRSS / 1024
}

/** Wall seconds and peak RSS (MiB) of one phase. */
const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    resetPeak()
    const start = performance.now()
    const value = yield* effect
    return { value, seconds: (performance.now() - start) / 1000, peakMiB: peakMiB() }
  })

const main = Effect.gen(function* () {
  const startLoad = loadavg()
  const folder = nodePath.join(tmpdir(), "refine-af-bench-rl", MODEL.name)
  yield* Effect.promise(() => makeTinyModel({ out: folder, config: "llama", overrides: MODEL.overrides, seed: 0 }))
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: THREADS, worker: false, float16Weights: false })
  const model = yield* loadModelFolder(folder)
  const weights = yield* Effect.scoped(Effect.flatMap(openWeights(model), (source) => loadWeights(source, model.config, folder)))
  const runtime = makeLlamaRuntime(backend, model.config, weights, { contextLength: P + T + 1, padTokenId: 0 })
  const tokenizer = yield* loadTokenizer(folder)
  /** One contender: its session and its best times / peaks so far. */
  const contender = (headWindow: "fit" | "full", sharePrompts = true) => Effect.gen(function* () {
    // An EOS id outside the vocabulary: every completion has exactly T tokens, as on the torch side.
    const policy = yield* makeLlamaPolicyModel({ runtime, tokenizer, id: MODEL.name, contextLength: P + T + 1, eosIds: new Set([model.config.vocabSize]), maxBatch: B, headWindow, sharePrompts })
    const session = yield* policy.session({ lora: { rank: RANK, alpha: 2 * RANK, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj"] }, valueHead: true, seed: 1 })
    return {
      session,
      best: { sample: Infinity, reward: Infinity, evaluate: Infinity, train: Infinity, sampleGrouped: Infinity, evaluateGrouped: Infinity, trainGrouped: Infinity },
      peak: { sample: 0, reward: 0, evaluate: 0, train: 0, sampleGrouped: 0, evaluateGrouped: 0, trainGrouped: 0 }
    }
  })
  type Contender = Effect.Success<ReturnType<typeof contender>>
  const objective = ppoObjective()
  /** One round of every phase for `c` (round 0 is the warm-up: it compiles every program and is not counted). */
  const roundOf = (c: Contender, round: number) => Effect.gen(function* () {
    const { session, best, peak } = c
    const sampled = yield* timed(session.sample(prompts, { maxNewTokens: T, temperature: 1 }))
    const rollouts = sampled.value
    const reward = yield* timed(Effect.sync(() => rollouts.map((r) => (/\d/.test(r.text) ? 1 : 0))))
    const evaluate = (batch: typeof rollouts) => Effect.all([session.evaluate(batch, { values: true, entropy: true }), session.evaluate(batch, { reference: true })])
    // MB minibatches of consecutive rows: with the grouped rollouts, each holds whole groups.
    const train = (batch: typeof rollouts, current: ReadonlyArray<{ readonly logprobs: ReadonlyArray<number>; readonly values?: ReadonlyArray<number> }>) =>
      Effect.forEach(Array.from({ length: MB }, (_, m) => m), (m) => {
        const idx = Array.from({ length: B / MB }, (_, i) => m * (B / MB) + i)
        const pick = <X>(xs: ReadonlyArray<X>) => idx.map((i) => xs[i]!)
        const old = pick(current).map((h) => h.logprobs)
        const values = pick(current).map((h) => h.values!)
        const advantages = values.map((row) => row.map((_, t) => Math.sin(t + m)))
        return session.step(objective, pick(batch), { oldLogprobs: old, oldValues: values, advantages, returns: values.map((row, i) => row.map((v, t) => v + advantages[i]![t]!)) }, { lr: 1e-5 })
      })
    const evaluated = yield* timed(evaluate(rollouts))
    const trained = yield* timed(train(rollouts, evaluated.value[0]))
    if (rollouts.some((r) => r.completion.length !== T)) throw new Error("a completion stopped early; the shapes would differ from the torch side")
    const sampledGrouped = yield* timed(session.sample(grouped, { maxNewTokens: T, temperature: 1 }))
    const evaluatedGrouped = yield* timed(evaluate(sampledGrouped.value))
    const trainedGrouped = yield* timed(train(sampledGrouped.value, evaluatedGrouped.value[0]))
    if (round === 0) return
    for (const [phase, measured] of [["sample", sampled], ["reward", reward], ["evaluate", evaluated], ["train", trained], ["sampleGrouped", sampledGrouped], ["evaluateGrouped", evaluatedGrouped], ["trainGrouped", trainedGrouped]] as const) {
      peak[phase] = Math.max(peak[phase], measured.peakMiB)
      best[phase] = Math.min(best[phase], measured.seconds)
    }
  })
  const fit = yield* contender("fit")
  const full = yield* contender("full")
  const unshared = yield* contender("fit", false)
  // Interleaved, the order rotating, so no contender always pays for going first.
  const order = [fit, full, unshared]
  for (let round = 0; round <= REPEATS; round++) for (let c = 0; c < order.length; c++) yield* roundOf(order[(c + round) % order.length]!, round)
  const { best, peak } = fit
  const torch = JSON.parse(
    execFileSync("/usr/bin/python3", [nodePath.join(here, "bench_ppo_torch.py"), folder, String(B), String(P), String(T), String(MB), String(RANK), String(THREADS), String(REPEATS)], { encoding: "utf8" }).trim().split("\n").pop()!
  ) as Record<string, number>
  const phases = ["sample", "evaluate", "train"] as const
  type Phase = keyof typeof best
  /** One table row: a phase of every contender, against torch's plain phase `base` (it shares nothing). */
  const row = (label: string, phase: Phase, base: (typeof phases)[number]) => ({
    phase: label,
    oursSeconds: best[phase],
    oursAllPositionsSeconds: full.best[phase],
    windowSpeedup: full.best[phase] / best[phase],
    oursUnsharedSeconds: unshared.best[phase],
    sharedSpeedup: unshared.best[phase] / best[phase],
    torchSeconds: torch[`${base}_s`]!,
    speedup: torch[`${base}_s`]! / best[phase],
    oursPeakMiB: peak[phase],
    oursAllPositionsPeakMiB: full.peak[phase],
    oursUnsharedPeakMiB: unshared.peak[phase],
    torchPeakMiB: torch[`${base}_peak_mib`]!
  })
  const rows = [...phases.map((p) => row(p, p, p)), ...phases.map((p) => row(`${p}, ${GROUP} per prompt`, `${p}Grouped`, p))]
  const total = { ours: best.sample + best.reward + best.evaluate + best.train, torch: torch["sample_s"]! + torch["evaluate_s"]! + torch["train_s"]! }
  const report = {
    benchmark: "ppo-step",
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: startLoad, loadAverageAtEnd: loadavg() },
    settings: { model: MODEL, batch: B, promptTokens: P, newTokens: T, minibatches: MB, loraRank: RANK, loraTargets: ["q_proj", "v_proj"], valueHead: true, threads: THREADS, repeats: `best of ${REPEATS} after one warm-up, the three contenders interleaved round by round`, contenders: "ours: heads on the completions' window, shared prompts (the defaults); ours all positions: headWindow full (no sharing either); ours unshared: sharePrompts false; torch: hand-written, heads on the completion positions, no sharing (its grouped rows are its plain phases)", baseline: `PyTorch ${torch["torch"]} CPU eager float32, hand-written (tools/bench-rl/bench_ppo_torch.py)` },
    // Peak resident set of the whole process during each phase (VmHWM reset before it), weights and runtime included.
    // The grouped phases' torch figures are its plain phases (it prefills and evaluates every row either way).
    results: { phases: rows, sampleOursDistinctOverGrouped: best.sample / best.sampleGrouped, rewardSeconds: best.reward, total: { ...total, speedup: total.torch / total.ours } },
    weightBytes: Object.values(weights).reduce((sum, w) => sum + w.data.byteLength, 0)
  }
  console.log(`PPO step, ${MODEL.name}, B=${B} P=${P} T=${T}, ${MB} minibatches, threads ${THREADS}, load ${startLoad.map((l) => l.toFixed(1)).join(" ")} → ${loadavg().map((l) => l.toFixed(1)).join(" ")}`)
  console.log("phase                       ours (s)   all positions (s)   all/ours   unshared (s)   unshared/ours   torch (s)   torch/ours   ours peak MiB   all-positions peak MiB   unshared peak MiB   torch peak MiB")
  for (const r of rows) console.log(`${r.phase.padEnd(26)} ${r.oursSeconds.toFixed(3).padStart(9)} ${r.oursAllPositionsSeconds.toFixed(3).padStart(19)} ${r.windowSpeedup.toFixed(2).padStart(10)} ${r.oursUnsharedSeconds.toFixed(3).padStart(14)} ${r.sharedSpeedup.toFixed(2).padStart(15)} ${r.torchSeconds.toFixed(3).padStart(11)} ${r.speedup.toFixed(2).padStart(12)} ${r.oursPeakMiB.toFixed(0).padStart(15)} ${r.oursAllPositionsPeakMiB.toFixed(0).padStart(24)} ${r.oursUnsharedPeakMiB.toFixed(0).padStart(19)} ${r.torchPeakMiB.toFixed(0).padStart(16)}`)
  console.log(`reward                     ${best.reward.toFixed(4).padStart(9)}`)
  console.log(`total                      ${total.ours.toFixed(3).padStart(9)} ${total.torch.toFixed(3).padStart(11)} ${(total.torch / total.ours).toFixed(2).padStart(12)}`)
  if (!quick) {
    mkdirSync(nodePath.join(repoRoot, "bench-results"), { recursive: true })
    const name = P === 32 ? "ppo-step.json" : `ppo-step-p${P}.json`
    writeFileSync(nodePath.join(repoRoot, "bench-results", name), JSON.stringify(report, null, 2) + "\n")
    console.log(`wrote bench-results/${name}`)
  }
})

Effect.runPromise(Effect.scoped(main)).catch((error) => {
  console.error(error)
  process.exit(1)
})
