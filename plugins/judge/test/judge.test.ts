import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { LanguageModelService, ScoringRequest } from "@refine-af/core"
import { JudgeOptions, makeJudgeScorer } from "../src/index.ts"

/** A model whose answer log-probabilities depend on the question asked; counts words as tokens. */
const fakeModel = (contextLength = 4096) => {
  const seen: Array<ScoringRequest> = []
  const logp = (r: ScoringRequest): number => {
    const yes = r.continuation === " Yes"
    if (r.prompt.includes("natural response")) return yes ? -0.5 : -1.5 // P(Yes)/(P(Yes)+P(No)) = sigmoid(1)
    if (r.prompt.includes("coherent response")) return yes ? -3 : -1 // sigmoid(-2)
    return yes ? -2 : -2 // 0.5
  }
  const model: LanguageModelService = {
    info: { id: "fake", contextLength },
    generate: () => Effect.die("unused"),
    stream: () => Effect.die("unused") as never,
    score: (requests) => Effect.sync(() => {
      seen.push(...requests)
      return requests.map((r) => ({ tokenIds: [0], logprobs: [logp(r)], total: logp(r) }))
    }),
    countTokens: (text) => Effect.succeed(text.split(/\s+/).filter((w) => w.length > 0).length)
  }
  return { model, seen }
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
const samples = [
  { instruction: "Greet the user.", input: "", output: "Hello there!" },
  { instruction: "Name a colour.", input: "sky", output: "Blue." }
]

describe("judge/lm", () => {
  it("asks UniEval's questions and turns Yes/No log-probabilities into per-dimension scores", async () => {
    const { model, seen } = fakeModel()
    const scores = await Effect.runPromise(makeJudgeScorer(model).score(samples))
    for (const score of scores) {
      expect(score.parts!["naturalness"]).toBeCloseTo(sigmoid(1), 12)
      expect(score.parts!["coherence"]).toBeCloseTo(sigmoid(-2), 12)
      expect(score.parts!["understandability"]).toBeCloseTo(0.5, 12)
      expect(score.value).toBeCloseTo((sigmoid(1) + sigmoid(-2) + 0.5) / 3, 12)
    }
    expect(seen).toHaveLength(2 * 3 * 2)
    expect(seen.map((r) => r.prompt)).toContain(
      "question: Is this a coherent response given the dialogue history? </s> response: Blue. </s> dialogue history: Name a colour.\nsky\n\n\nAnswer (Yes or No):"
    )
  })

  it("re-scores nothing on a re-run, in the same process or from the cache folder", async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "judge-cache-"))
    const { model, seen } = fakeModel()
    const judge = makeJudgeScorer(model, { dimensions: ["naturalness"] }, { cacheDir })
    const first = await Effect.runPromise(judge.score(samples))
    expect(seen).toHaveLength(4)
    await Effect.runPromise(judge.score(samples))
    const again = await Effect.runPromise(makeJudgeScorer(model, { dimensions: ["naturalness"] }, { cacheDir }).score([...samples].reverse()))
    expect(seen).toHaveLength(4)
    expect(again).toEqual([...first].reverse())
    // other options are another identity: scored anew
    await Effect.runPromise(makeJudgeScorer(model, { dimensions: ["coherence"] }, { cacheDir }).score(samples))
    expect(seen).toHaveLength(8)
  })

  it("shortens a response longer than the context, warns and counts it, never crashes", async () => {
    const { model, seen } = fakeModel(40)
    const warnings: Array<string> = []
    let truncated = 0
    const judge = makeJudgeScorer(model, { dimensions: ["naturalness"] }, {
      reporting: { warn: (m) => Effect.sync(() => void warnings.push(m)), truncated: (n) => Effect.sync(() => void (truncated += n)) }
    })
    const long = { instruction: "Talk.", input: "", output: Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ") }
    const [score] = await Effect.runPromise(judge.score([long]))
    expect(score!.parts!["naturalness"]).toBeCloseTo(sigmoid(1), 12)
    expect(truncated).toBe(1)
    expect(warnings[0]).toContain("40 tokens")
    for (const r of seen) expect(r.prompt.split(/\s+/).filter((w) => w.length > 0).length + 1).toBeLessThanOrEqual(40)
    expect(seen[0]!.prompt).toContain("w0 w1")
  })

  it("fails with a clear error when even the bare question does not fit", async () => {
    const { model } = fakeModel(5)
    const error = await Effect.runPromise(Effect.flip(makeJudgeScorer(model).score(samples)))
    expect(error._tag).toBe("ScorerError")
    expect(error.message).toContain("5-token context")
  })

  it("refuses options that would make every score alike: a template without {question}, equal or empty answers", () => {
    const decode = Schema.decodeUnknownSync(JudgeOptions)
    expect(decode({ template: "Q: {question}\nA:", yes: " yes", no: " no" })).toEqual({ dimensions: ["naturalness", "coherence", "understandability"], template: "Q: {question}\nA:", yes: " yes", no: " no", batch_size: 32 })
    expect(() => decode({ template: "Is it good?" })).toThrow(/must contain \{question\}/)
    expect(() => decode({ yes: " No" })).toThrow(/yes and no are the same continuation \(" No"\)/)
    expect(() => decode({ yes: "A", no: "A" })).toThrow(/same continuation/)
    expect(() => decode({ yes: "" })).toThrow(/must not be empty/)
  })
})
