import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { makeRuleReward, makeRuleScorer, RuleScorerOptions, RuleSet, scoreText } from "../src/index.ts"

const decode = Schema.decodeUnknownSync(RuleSet)

describe("rules", () => {
  it("each kind passes and fails where it should; weights and bias add", () => {
    const set = decode({ bias: -1, rules: [{ kind: "contains-digit" }, { kind: "ends-with-period", weight: 2 }, { kind: "regex", pattern: "^yes", flags: "i", name: "yes" }, { kind: "non-empty", weight: 0.5 }] })
    expect(scoreText(set, "Yes, 4 apples.  ")).toEqual({ value: -1 + 1 + 2 + 1 + 0.5, parts: { "contains-digit": 1, "ends-with-period": 1, yes: 1, "non-empty": 1 } })
    expect(scoreText(set, "no apples!")).toEqual({ value: -1 + 0.5, parts: { "contains-digit": 0, "ends-with-period": 0, yes: 0, "non-empty": 1 } })
    expect(scoreText(set, " ").value).toBe(-1)
  })
  it("rejects a bad regex, a regex without pattern, a pattern on another kind, and an empty rule list", () => {
    expect(() => decode({ rules: [{ kind: "regex", pattern: "(" }] })).toThrow(/not a valid regular expression/)
    expect(() => decode({ rules: [{ kind: "regex" }] })).toThrow(/needs `pattern`/)
    expect(() => decode({ rules: [{ kind: "contains-digit", pattern: "x" }] })).toThrow(/only read by kind: regex/)
    expect(() => decode({ rules: [] })).toThrow()
    expect(() => decode({ rules: [{ kind: "ends-with-comma" }] })).toThrow()
  })
  it("the scorer reads the chosen field; the reward reads the completion", async () => {
    const scorer = makeRuleScorer("s", Schema.decodeUnknownSync(RuleScorerOptions)({ field: "input", rules: [{ kind: "contains-digit" }] }))
    const scores = await Effect.runPromise(scorer.score([{ instruction: "1", input: "a", output: "2" }, { instruction: "", input: "3", output: "" }]))
    expect(scores.map((s) => s.value)).toEqual([0, 1])
    const reward = makeRuleReward("r", decode({ rules: [{ kind: "contains-digit" }] }))
    const rewards = await Effect.runPromise(reward.reward([{ record: {}, completion: "x9" }, { record: {}, completion: "x" }]))
    expect(rewards.map((r) => r.value)).toEqual([1, 0])
  })
})
