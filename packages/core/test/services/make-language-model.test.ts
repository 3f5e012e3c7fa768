/** `makeLanguageModel`: defaults for what a provider lacks, its own operations untouched. */
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { LanguageModelError, makeLanguageModel, type GenerationRequest } from "../../src/index.ts"

const textOnly = makeLanguageModel({
  info: { id: "remote/text-only", contextLength: 128 },
  generate: (requests: ReadonlyArray<GenerationRequest>) =>
    Effect.succeed(requests.map((request) => ({ text: `re: ${String(request.prompt)}`, finishReason: "stop" as const, promptTokens: 2 })))
})

const failure = <A>(effect: Effect.Effect<A, LanguageModelError>) => Effect.runPromise(Effect.flip(effect))

describe("makeLanguageModel", () => {
  it("streams a generation as one chunk when the provider cannot stream, with why it ended and its prompt's length", async () => {
    const chunks = await Effect.runPromise(Stream.runCollect(textOnly.stream({ prompt: "hi", params: { maxNewTokens: 4 } })))
    expect([...chunks]).toEqual([{ text: "re: hi", finish: { reason: "stop", promptTokens: 2 } }])
  })

  it("fails scoring and token counting with reason Unsupported, naming the model", async () => {
    const score = await failure(textOnly.score([{ prompt: "a", continuation: "b" }]))
    expect(score).toMatchObject({ _tag: "LanguageModelError", reason: "Unsupported", message: "model \"remote/text-only\" does not support continuation scoring" })
    expect(score.fix).toContain("supports continuation scoring")
    const count = await failure(textOnly.countTokens("abc"))
    expect(count).toMatchObject({ reason: "Unsupported", message: "model \"remote/text-only\" does not support token counting" })
    // Nothing to score is not an unsupported request.
    expect(await Effect.runPromise(textOnly.score([]))).toEqual([])
  })

  it("keeps the operations the provider has", async () => {
    const full = makeLanguageModel({
      info: textOnly.info,
      generate: textOnly.generate,
      stream: () => Stream.make({ text: "a", tokenId: 1, logprob: -0.5 }, { text: "b", tokenId: 2, logprob: -0.25 }),
      score: (requests) => Effect.succeed(requests.map(() => ({ total: -1.5 }))),
      countTokens: (text) => Effect.succeed(text.length)
    })
    expect([...await Effect.runPromise(Stream.runCollect(full.stream({ prompt: "x", params: { maxNewTokens: 2 } })))].map((chunk) => chunk.tokenId)).toEqual([1, 2])
    expect(await Effect.runPromise(full.score([{ prompt: "p", continuation: "c" }]))).toEqual([{ total: -1.5 }])
    expect(await Effect.runPromise(full.countTokens("four"))).toBe(4)
  })
})
