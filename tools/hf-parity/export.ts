/**
 * The TypeScript half of the Hugging Face parity check: writes the seeded tiny
 * models (llama with llama3 rope scaling, mistral with a sliding window shorter
 * than the prompts and GQA 4:1, qwen2 with q/k/v bias and tied embeddings, qwen3
 * with q/k head norms, wide heads, a window on one layer and transformers 5's
 * config layout, olmo2 with norms after attention and MLP and q/k norms over
 * whole projections, smollm3 with a layer without rotary that slides, granite
 * with its four multipliers; llama
 * also stored as bfloat16) and,
 * for each, what our stack computes on them, for `check.py` to recompute with
 * `transformers` and `peft` (which this repository's machines do not have; the
 * GPU machines lent to its sessions do: `tools/gpu-check/device-run.sh` runs both):
 *
 * - the tokenizer's ids for a few texts and their decoding, and a few chats rendered
 *   by the model's chat template (our tokenizer and Jinja subset are TypeScript;
 *   transformers reads the same tokenizer.json and tokenizer_config.json);
 * - log p(token | prefix) of every prompt token after the first (`scoreSequences`,
 *   all prompts in one left-padded batch);
 * - a batched greedy continuation of every prompt (the KV-cache decode path, left
 *   padding, rows of different lengths), which check.py teacher-forces through
 *   transformers: each of our tokens must be its argmax, up to float32 ties;
 * - a LoRA adapter on all seven projections after a few SFT steps (non-zero B),
 *   exported in PEFT's format, with the log-probabilities our policy gives under it
 *   (peft's `PeftModel` must match) and the adapter merged into a plain folder by
 *   `writeMergedModel` (transformers must read the same log-probabilities from it).
 *
 *   npx tsx tools/hf-parity/export.ts --out /tmp/hf-parity [--presets llama,mistral,qwen2,qwen3,olmo2,smollm3,granite,llama-bf16]
 *   python3 tools/hf-parity/check.py /tmp/hf-parity --out hf-parity.json
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import * as nodePath from "node:path"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { generateTokens, loadLlama, scoreSequences, writeMergedModel } from "@refine-af/model-llama"
import { TINY_PRESETS, writeTinyModel, type TinyModelDtype, type TinyPresetName } from "@refine-af/models"
import { nllObjective, type TokenSequence } from "@refine-af/training"
import { Effect } from "effect"

/** Texts for the tokenizer and the prompts (English, code, numbers, non-Latin scripts, emoji, odd whitespace). */
export const TEXTS = [
  "Hello world, this is a test.",
  "The quick brown fox jumps over the lazy dog. Once upon a time",
  "def add(a, b):\n    return a + b  # 42 + 1337 = 1379",
  "Übersetze: « Où est la gare ? » → 駅はどこですか 🚉",
  "  leading spaces,\ttabs\n\nand a blank line"
] as const

/** Conversations for the chat template (rendered with the assistant generation prompt). */
export const CHATS = [
  [{ role: "user", content: "What is the capital of France?" }],
  [
    { role: "system", content: "You are a careful assistant." },
    { role: "user", content: "Write a haiku about rain." },
    { role: "assistant", content: "Soft rain on the roof" },
    { role: "user", content: "Another one, please — shorter." }
  ]
] as const

/** The LoRA every preset trains: on all its projections (seven, or phi3's four fused ones), so every PEFT module path is exercised. */
const LORA = { rank: 4, alpha: 8, dropout: 0, rsLora: false }
const NEW_TOKENS = 12
const SFT_STEPS = 3

/** The models checked: the thirteen presets in float32 (gemma3 and mistral3: multimodal models around gemma3_text's and mistral's decoders), and llama stored as bfloat16 (both sides read it as float32). */
export const VARIANTS = {
  llama: { preset: "llama", dtype: "F32" },
  mistral: { preset: "mistral", dtype: "F32" },
  qwen2: { preset: "qwen2", dtype: "F32" },
  qwen3: { preset: "qwen3", dtype: "F32" },
  olmo2: { preset: "olmo2", dtype: "F32" },
  olmo3: { preset: "olmo3", dtype: "F32" },
  smollm3: { preset: "smollm3", dtype: "F32" },
  granite: { preset: "granite", dtype: "F32" },
  gemma2: { preset: "gemma2", dtype: "F32" },
  gemma3_text: { preset: "gemma3_text", dtype: "F32" },
  phi3: { preset: "phi3", dtype: "F32" },
  gemma3: { preset: "gemma3", dtype: "F32" },
  mistral3: { preset: "mistral3", dtype: "F32" },
  "llama-bf16": { preset: "llama", dtype: "BF16" }
} as const satisfies Record<string, { readonly preset: TinyPresetName; readonly dtype: TinyModelDtype }>

export type Variant = keyof typeof VARIANTS
const isVariant = (name: string): name is Variant => name in VARIANTS

/** What export.ts writes per preset (`<out>/<preset>/expected.json`), read by check.py. */
export interface PresetExpectation {
  readonly preset: string
  readonly dtype: TinyModelDtype
  readonly config: Readonly<Record<string, unknown>>
  readonly texts: ReadonlyArray<string>
  /** Our tokenizer's ids per text, without special tokens. */
  readonly tokenIds: ReadonlyArray<ReadonlyArray<number>>
  /** Our decoding of those ids (special tokens skipped). */
  readonly decoded: ReadonlyArray<string>
  readonly chats: ReadonlyArray<ReadonlyArray<{ readonly role: string; readonly content: string }>>
  /** Each chat rendered by our chat template, with the assistant generation prompt. */
  readonly chatTexts: ReadonlyArray<string>
  /** log p(ids[k] | ids[<k]) for k ≥ 1, per prompt (prompts = tokenIds). */
  readonly logprobs: ReadonlyArray<ReadonlyArray<number>>
  /** Our greedy continuation of each prompt (batched, KV cache). */
  readonly greedy: ReadonlyArray<ReadonlyArray<number>>
  /** log p under the exported adapter, same positions as `logprobs`. */
  readonly adapterLogprobs: ReadonlyArray<ReadonlyArray<number>>
  readonly sftLosses: ReadonlyArray<number>
  readonly folders: { readonly model: string; readonly adapter: string; readonly merged: string }
}

export const exportPreset = (out: string, variant: Variant) =>
  Effect.gen(function* () {
    const { preset, dtype } = VARIANTS[variant]
    const root = nodePath.join(out, variant)
    rmSync(root, { recursive: true, force: true })
    const folders = { model: "model", adapter: "adapter", merged: "merged" }
    yield* writeTinyModel({ out: nodePath.join(root, folders.model), config: preset, seed: 0, dtype })
    const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
    const loaded = yield* loadLlama(nodePath.join(root, folders.model), backend, { contextLength: 128, maxBatch: 8 })
    const tokenIds = TEXTS.map((text) => loaded.tokenizer.encode(text, { addSpecialTokens: false }))
    const decoded = tokenIds.map((ids) => loaded.tokenizer.decode(ids, { skipSpecialTokens: true }))
    const chatTexts: Array<string> = []
    for (const chat of CHATS) chatTexts.push(yield* loaded.tokenizer.applyChatTemplate(chat.map((turn) => ({ ...turn }))))
    const logprobs = yield* scoreSequences(loaded.runtime, tokenIds.map((ids) => ({ ids, from: 1 })), 8)
    const generations = yield* generateTokens(loaded.runtime, tokenIds.map((promptIds) => ({ promptIds, params: { maxNewTokens: NEW_TOKENS, temperature: 0 } })), {
      tokenizer: loaded.tokenizer,
      eosIds: new Set(),
      contextLength: 128,
      maxBatch: 8
    })
    const greedy = generations.map((g) => g.tokenIds ?? [])
    // A few SFT steps on one sequence move B away from zero (a fresh adapter is the identity and would hide layout bugs).
    const session = yield* loaded.policy.session({ lora: { ...LORA, targets: loaded.policy.info.loraTargets }, seed: 7 })
    const sft: TokenSequence = { tokens: tokenIds[1]!, promptLength: 3 }
    const sftLosses: Array<number> = []
    for (let i = 0; i < SFT_STEPS; i++) sftLosses.push((yield* session.step(nllObjective, [sft], {}, { lr: 0.05, clipGradNorm: 1 })).loss)
    const adapted = yield* session.evaluate(tokenIds.map((tokens) => ({ tokens, promptLength: 1 })))
    yield* session.exportAdapter(nodePath.join(root, folders.adapter))
    yield* writeMergedModel({ base: nodePath.join(root, folders.model), adapter: nodePath.join(root, folders.adapter), out: nodePath.join(root, folders.merged) })
    const expected: PresetExpectation = {
      preset: variant,
      dtype,
      config: TINY_PRESETS[preset],
      texts: [...TEXTS],
      tokenIds,
      decoded,
      chats: CHATS.map((chat) => chat.map((turn) => ({ ...turn }))),
      chatTexts,
      logprobs,
      greedy,
      adapterLogprobs: adapted.map((h) => h.logprobs),
      sftLosses,
      folders
    }
    writeFileSync(nodePath.join(root, "expected.json"), JSON.stringify(expected, null, 1))
    return expected
  })

const parseArgs = (argv: ReadonlyArray<string>) => {
  const usage = `usage: export.ts --out DIR [--presets ${Object.keys(VARIANTS).join(",")}]`
  let out: string | undefined
  let variants = Object.keys(VARIANTS) as Array<Variant>
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]]
    if (flag === "--out" && value) out = nodePath.resolve(value)
    else if (flag === "--presets" && value) {
      const names = value.split(",")
      const unknown = names.filter((n) => !isVariant(n))
      if (unknown.length > 0) throw new Error(`unknown preset(s) ${unknown.join(", ")}: ${usage}`)
      variants = names.filter(isVariant)
    } else throw new Error(`unknown argument ${flag}: ${usage}`)
  }
  if (out === undefined) throw new Error(usage)
  return { out, variants }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { out, variants } = parseArgs(process.argv.slice(2))
  mkdirSync(out, { recursive: true })
  const program = Effect.gen(function* () {
    for (const variant of variants) {
      const started = performance.now()
      const expected = yield* exportPreset(out, variant)
      console.log(`${variant}: ${expected.tokenIds.length} prompts, greedy ${expected.greedy.map((g) => g.length).join("/")} tokens, SFT loss ${expected.sftLosses.map((l) => l.toFixed(3)).join(" → ")} (${((performance.now() - started) / 1000).toFixed(1)} s)`)
    }
  })
  Effect.runPromise(Effect.scoped(program)).then(() => console.log(`written under ${out}`), (error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
