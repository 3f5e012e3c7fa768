import { describe, expect, it } from "vitest"
import { continuationScore } from "../src/index.ts"

/** An echo answer as vLLM builds it: each token decoded alone, offsets a running sum of their lengths from 0, usage counting the prompt's tokens. */
const vllmEcho = (tokens: ReadonlyArray<string>, logprobs: ReadonlyArray<number | null>, promptTokens: number) => {
  let offset = 0
  const text_offset = tokens.map((t) => ((offset += [...t].length), offset - [...t].length))
  return {
    choices: [{ index: 0, text: tokens.join(""), logprobs: { tokens: [...tokens], token_logprobs: [...logprobs], top_logprobs: null, text_offset }, finish_reason: "length" }],
    usage: { prompt_tokens: promptTokens, completion_tokens: tokens.length - promptTokens, total_tokens: tokens.length }
  }
}

describe("continuationScore on vLLM's echo answers", () => {
  it("picks the continuation's tokens when a BOS token shifts every text_offset (Llama 3: <|begin_of_text|>)", () => {
    const body = vllmEcho(["<|begin_of_text|>", "The", " cat", " sat", " down", " quietly"], [null, -1, -2, -3, -4, -9], 5)
    expect(continuationScore({ prompt: "The cat", continuation: " sat down" }, body)).toEqual({ logprobs: [-3, -4], total: -7 })
  })

  it("counts characters as Python does: an emoji in the continuation is one character, not two", () => {
    const body = vllmEcho(["<s>", "a", " 🙂", " b", "."], [null, -1, -2, -3, -5], 4)
    expect(continuationScore({ prompt: "a", continuation: " 🙂 b" }, body)).toEqual({ logprobs: [-2, -3], total: -5 })
  })

  it("without usage, places the offsets by finding the text among the tokens' (a BOS first), and refuses where it cannot", () => {
    const { usage: _, ...bare } = vllmEcho(["<s>", "a", " b", " c", " d"], [null, -1, -2, -3, -7], 4)
    expect(continuationScore({ prompt: "a", continuation: " b c" }, bare)).toEqual({ logprobs: [-2, -3], total: -5 })
    const { usage: __, ...mangled } = vllmEcho(["<s>", "a", "▁b", "▁c"], [null, -1, -2, -3], 4)
    expect(continuationScore({ prompt: "a", continuation: " b c" }, mangled)).toMatchObject({ reason: "Unsupported" })
  })

  it("refuses tokens named token_id:<id>: their offsets say nothing about the text", () => {
    const body = vllmEcho(["token_id:1", "token_id:450", "token_id:6635", "token_id:13"], [null, -1, -2, -5], 3)
    const score = continuationScore({ prompt: "The", continuation: " cat" }, body)
    expect(score).toMatchObject({ reason: "Unsupported" })
    expect((score as { message: string }).message).toContain("--return-tokens-as-token-ids")
  })
})
