import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import type { Sample, Score, ScorerService } from "@refine-af/core"
import { combineTerms, composite, makeCompositeScorer, makeTermState, resolveTerms, type Term } from "../src/index.ts"

const fixed = (name: string, scores: ReadonlyArray<Score>): ScorerService => ({ name, score: () => Effect.succeed(scores) })
const samples: Array<Sample> = [
  { instruction: "a", input: "", output: "x" },
  { instruction: "b", input: "", output: "y" }
]

describe("reward/composite arithmetic", () => {
  it("computes the InstructMining rule on hand-computed rows and keeps the breakdown", async () => {
    const { terms, bias } = resolveTerms({ preset: "instructmining" })
    const scorer = makeCompositeScorer("c", terms, bias, {
      reward_model: fixed("rm", [{ value: 2 }, { value: -1.5 }]),
      quality: fixed("q", [
        { value: 0, parts: { naturalness: 0.9, coherence: 0.8, understandability: 0.7 } },
        { value: 0, parts: { naturalness: 0.1, coherence: 0.5, understandability: 1 } }
      ])
    })
    const [a, b] = await Effect.runPromise(scorer.score(samples))
    // row 0: -0.0274 + 0.0078*2 + 0.3212*0.9 + 0.1520*0.8 - 0.4421*0.7 = -0.0274 + 0.0156 + 0.28908 + 0.1216 - 0.30947
    expect(a!.value).toBeCloseTo(0.08941, 12)
    // row 1: -0.0274 - 0.0117 + 0.03212 + 0.076 - 0.4421 = -0.37308
    expect(b!.value).toBeCloseTo(-0.37308, 12)
    expect(a!.parts).toEqual({
      Rew: 2, "Rew.weighted": 0.0156,
      Nat: 0.9, "Nat.weighted": 0.3212 * 0.9,
      Coh: 0.8, "Coh.weighted": 0.152 * 0.8,
      Und: 0.7, "Und.weighted": -0.4421 * 0.7,
      bias: -0.0274
    })
  })

  it("normalises with fixed mean/std and with running statistics across batches", () => {
    const terms: Array<Term> = [
      { name: "f", slot: "extra", weight: 2, normalize: { kind: "fixed", mean: 1, std: 4 } },
      { name: "r", slot: "extra", part: "p", weight: 1, normalize: { kind: "running" } }
    ]
    const state = makeTermState(terms)
    const first = combineTerms(terms, 0.5, [{ f: 5, r: 1 }, { f: 1, r: 3 }], state)
    // f: (5-1)/4 = 1 → 2; r: mean 2, std 1 → (1-2)/1 = -1
    expect(first[0]).toEqual({ value: 0.5 + 2 - 1, parts: { f: 5, "f.norm": 1, "f.weighted": 2, r: 1, "r.norm": -1, "r.weighted": -1, bias: 0.5 } })
    expect(first[1]!.value).toBeCloseTo(0.5 + 0 + 1, 12)
    // second batch sees 1, 3, 8: mean 4, population std sqrt(26/3)
    const second = combineTerms(terms, 0.5, [{ f: 1, r: 8 }], state)
    expect(second[0]!.parts!["r.norm"]).toBeCloseTo(4 / Math.sqrt(26 / 3), 12)
    // a lone first value has no spread: it normalises to 0, not NaN
    const lone = combineTerms(terms, 0, [{ f: 1, r: 7 }], makeTermState(terms))
    expect(lone[0]!.value).toBe(0)
  })

  it("explicit terms and bias replace the preset's", () => {
    const { terms, bias } = resolveTerms({ preset: "instructmining", bias: 1, terms: [{ scorer: "heuristics", part: "pass", weight: 3 }] })
    expect(bias).toBe(1)
    expect(terms).toEqual([{ name: "heuristics.pass", slot: "heuristics", part: "pass", weight: 3, normalize: undefined }])
  })
})

describe("reward/composite errors", () => {
  it("names a missing part and lists the scorer's parts", async () => {
    const scorer = makeCompositeScorer("c", [{ name: "Nat", slot: "quality", part: "naturalnes", weight: 1 }], 0, {
      quality: fixed("q", [{ value: 0, parts: { naturalness: 1 } }, { value: 0, parts: { naturalness: 1 } }])
    })
    const error = await Effect.runPromise(Effect.flip(scorer.score(samples)))
    expect(error._tag).toBe("ScorerError")
    expect(error.message).toContain('part "naturalnes"')
    expect(error.fix).toContain("naturalness")
  })

  it("refuses a preset whose slots are not connected, before scoring anything", async () => {
    const exit = await Effect.runPromiseExit(Effect.scoped(composite.make({
      name: "reward",
      options: { preset: "instructmining" },
      seed: 0,
      uses: { reward_model: fixed("rm", []), quality: undefined, heuristics: undefined, judge: undefined, extra: undefined },
      events: { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }
    })))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain('slot "quality"')
  })
})
