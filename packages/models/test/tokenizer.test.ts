import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { loadTokenizer, makeIncrementalDecoder } from "../src/index.ts"
import { tinyModel } from "./support/tiny-model.ts"

describe("tokenizer of a local model folder", () => {
  it("encodes, decodes and renders the chat template offline", async () => {
    const tokenizer = await Effect.runPromise(loadTokenizer(await tinyModel("llama")))
    // Qwen3 BPE ids of this sentence (the golden script's second prompt).
    expect(tokenizer.encode("The quick brown fox jumps over the lazy dog. Once upon a time")).toEqual([785, 3974, 13876, 38835, 34208, 916, 279, 15678, 5562, 13, 9646, 5193, 264, 882])
    expect(tokenizer.decode([9707, 1879, 11, 419, 374])).toBe("Hello world, this is")
    expect(tokenizer.decode([])).toBe("")
    expect(tokenizer.eosTokenId).toBe(151645)
    const chat = await Effect.runPromise(tokenizer.applyChatTemplate([{ role: "user", content: "What is the capital of France?" }]))
    expect(chat).toBe("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    // A finished conversation (what a reward model reads): Qwen3's template gives the last answer an empty thinking block.
    const finished = await Effect.runPromise(tokenizer.applyChatTemplate([{ role: "user", content: "Hi?" }, { role: "assistant", content: "Hello." }], { addGenerationPrompt: false }))
    expect(finished).toBe("<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello.<|im_end|>\n")
  })
  it("streams text incrementally without splitting multi-byte characters", async () => {
    const tokenizer = await Effect.runPromise(loadTokenizer(await tinyModel("llama")))
    const ids = tokenizer.encode("naïve café 東京 🙂 done")
    const decoder = makeIncrementalDecoder(tokenizer)
    const pieces = ids.map((id) => decoder.push(id))
    expect(pieces.join("")).toBe("naïve café 東京 🙂 done")
    expect(pieces.some((piece) => piece.includes("\uFFFD"))).toBe(false)
  })
  it("reads the chat template as transformers does: chat_template.jinja over tokenizer_config.json's, a processor's chat_template.json where the config has none", async () => {
    const source = await tinyModel("llama")
    const folder = mkdtempSync(nodePath.join(tmpdir(), "chat-template-"))
    for (const file of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(nodePath.join(source, file), nodePath.join(folder, file))
    const render = async () => Effect.runPromise(Effect.flatMap(loadTokenizer(folder), (tokenizer) => tokenizer.applyChatTemplate([{ role: "user", content: "Hi" }])))
    expect(await render()).toBe("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    writeFileSync(nodePath.join(folder, "chat_template.json"), JSON.stringify({ chat_template: "processor: {{ messages[0]['content'] }}" }))
    expect(await render()).toContain("<|im_start|>user")
    writeFileSync(nodePath.join(folder, "chat_template.jinja"), "jinja: {% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}{% endfor %}{% if add_generation_prompt %} >{% endif %}")
    expect(await render()).toBe("jinja: [user] Hi >")
    rmSync(nodePath.join(folder, "chat_template.jinja"))
    const config = JSON.parse(readFileSync(nodePath.join(folder, "tokenizer_config.json"), "utf8")) as Record<string, unknown>
    delete config.chat_template
    writeFileSync(nodePath.join(folder, "tokenizer_config.json"), JSON.stringify(config))
    expect(await render()).toBe("processor: Hi")
    writeFileSync(nodePath.join(folder, "chat_template.json"), "{ cut off")
    expect((await Effect.runPromise(Effect.flip(loadTokenizer(folder))))._tag).toBe("TokenizerError")
    rmSync(folder, { recursive: true, force: true })
  })
  it("a folder without a tokenizer is a TokenizerError", async () => {
    const error = await Effect.runPromise(Effect.flip(loadTokenizer("/nonexistent/folder")))
    expect(error._tag).toBe("TokenizerError")
  })
})

describe("incremental decoding", () => {
  it("emits exactly the full decode of a long generation, decoding a bounded window per token", async () => {
    const tokenizer = await Effect.runPromise(loadTokenizer(await tinyModel("llama")))
    // A long mixed text (multi-byte characters, spaces, punctuation) and a stream of arbitrary ids.
    const text = "Once upon a time, naïve cafés in 東京 served 🙂 to everyone. ".repeat(12)
    const streams = [tokenizer.encode(text), Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) % 150000)]
    for (const ids of streams) {
      let longest = 0
      const counting = { decode: (window: ReadonlyArray<number>) => ((longest = Math.max(longest, window.length)), tokenizer.decode(window)) }
      const decoder = makeIncrementalDecoder(counting)
      const pieces = ids.map((id) => decoder.push(id))
      expect(pieces.join("")).toBe(tokenizer.decode(ids).replace(/\uFFFD+$/, ""))
      expect(longest).toBeLessThan(16)
    }
  })
})
