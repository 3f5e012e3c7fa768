/** Data order of RL trainers: each pass over the prompts is a permutation; minibatches partition every epoch; both depend only on (seed, step). And prompt encoding: one BOS. */
import { describe, expect, it } from "vitest"
import { groupedMinibatches, minibatches, permutation, promptIndices } from "../src/rl/loop/order.ts"
import { Effect } from "effect"
import { checkFiniteRewards } from "../src/rl/loop/finite.ts"
import { encodePrompts } from "../src/rl/loop/prompts.ts"
import { withLeadingBos } from "../src/policy-model.ts"
import { defaultLoraConfig, loraConfigFrom } from "../src/lora.ts"

describe("RL data order", () => {
  it("promptIndices: consecutive steps walk each pass over the prompts as a permutation, passes differ", () => {
    const walked = [0, 1, 2, 3, 4, 5].flatMap((step) => promptIndices(4, step, 2, 9)) // 12 draws = 3 passes over 4 prompts
    for (let pass = 0; pass < 3; pass++) expect([...walked.slice(pass * 4, pass * 4 + 4)].sort()).toEqual([0, 1, 2, 3])
    expect(walked.slice(0, 4).join() === walked.slice(4, 8).join() && walked.slice(4, 8).join() === walked.slice(8, 12).join()).toBe(false)
    expect(promptIndices(4, 3, 2, 9)).toEqual(promptIndices(4, 3, 2, 9))
    expect(promptIndices(7, 2, 5, 1)).not.toEqual(promptIndices(7, 2, 5, 2))
  })
  it("minibatches: every epoch is a partition of 0..n−1 into chunks of at most size", () => {
    const mbs = minibatches(10, 4, 3, 5, 2)
    expect(mbs.map((m) => m.length)).toEqual([4, 4, 2, 4, 4, 2, 4, 4, 2])
    for (let e = 0; e < 3; e++) expect(mbs.slice(e * 3, e * 3 + 3).flat().sort((a, b) => a - b)).toEqual([...Array(10).keys()])
    expect(minibatches(10, 4, 1, 5, 2)).toEqual(mbs.slice(0, 3))
    expect(minibatches(10, 4, 1, 5, 3)).not.toEqual(mbs.slice(0, 3))
    expect(permutation(6, 1).sort()).toEqual([0, 1, 2, 3, 4, 5])
  })
  it("groupedMinibatches: every epoch is a partition; a group is split only where a minibatch ends; epochs and steps differ", () => {
    // 16 rollouts of 4 prompts, interleaved as a shuffled pass order leaves them.
    const groups = [2, 0, 3, 1, 1, 2, 0, 3, 3, 1, 2, 0, 0, 3, 1, 2]
    const mbs = groupedMinibatches(groups, 8, 3, 5, 2)
    expect(mbs.map((m) => m.length)).toEqual([8, 8, 8, 8, 8, 8])
    for (let e = 0; e < 3; e++) expect(mbs.slice(e * 2, e * 2 + 2).flat().sort((a, b) => a - b)).toEqual([...Array(16).keys()])
    // Minibatches of 8 hold two whole groups of 4.
    for (const mb of mbs) {
      const counts = new Map<number, number>()
      for (const i of mb) counts.set(groups[i]!, (counts.get(groups[i]!) ?? 0) + 1)
      expect([...counts.values()]).toEqual([4, 4])
    }
    expect(new Set(mbs.map((m) => m.join())).size).toBeGreaterThan(2)
    expect(groupedMinibatches(groups, 8, 1, 5, 2)).toEqual(mbs.slice(0, 2))
    expect(groupedMinibatches(groups, 8, 1, 5, 3)).not.toEqual(mbs.slice(0, 2))
    // Minibatches of 6: a group runs over the boundary, and every rollout is still in exactly one.
    const uneven = groupedMinibatches(groups, 6, 1, 5, 2)
    expect(uneven.map((m) => m.length)).toEqual([6, 6, 4])
    expect(uneven.flat().sort((a, b) => a - b)).toEqual([...Array(16).keys()])
  })
  it("checkFiniteRewards names the first bad rollout", () => {
    expect(Effect.runSyncExit(checkFiniteRewards("s", 2, [1, 2]))._tag).toBe("Success")
    expect(JSON.stringify(Effect.runSyncExit(checkFiniteRewards("s", 2, [1, Infinity, Number.NaN], () => "p")))).toMatch(/step 2: the reward of rollout 1 \(prompt \\"p\\"\) is Infinity/)
  })
})

describe("prompt encoding", () => {
  // A tokenizer stand-in: one token per character (its code point), the text "<s>" read as the BOS token 1.
  const policy = (bosTokenId: number | undefined) => ({
    info: { id: "t", contextLength: 64, vocabSize: 200, eosTokenIds: [0], ...(bosTokenId === undefined ? {} : { bosTokenId }), loraTargets: [], hasChatTemplate: false },
    encode: (text: string) => Effect.succeed(text.startsWith("<s>") ? [1, ...[...text.slice(3)].map((c) => c.codePointAt(0)!)] : [...text].map((c) => c.codePointAt(0)!))
  }) as never
  const records = (...prompts: Array<string>) => prompts.map((prompt, i) => ({ record: { prompt }, where: `record ${i}` }))
  it("puts the model's BOS first, once: not again before a prompt that already starts with it (a chat-templated prompt)", async () => {
    const encoded = await Effect.runPromise(encodePrompts("rl", policy(1), records("ab", "<s>ab"), 8))
    expect(encoded.map((p) => p.tokens)).toEqual([[1, 97, 98], [1, 97, 98]])
    const noBos = await Effect.runPromise(encodePrompts("rl", policy(undefined), records("ab"), 8))
    expect(noBos[0]!.tokens).toEqual([97, 98])
    expect(withLeadingBos({ bosTokenId: 1 }, [])).toEqual([1])
  })
})

describe("LoRA options", () => {
  it("omitted targets are the model's own default where it names one (phi3: qkv_proj), else q_proj / v_proj; named targets always win", () => {
    expect(loraConfigFrom(undefined).targets).toEqual(["q_proj", "v_proj"])
    expect(loraConfigFrom({ rank: 4 }, { defaultLoraTargets: ["qkv_proj"] })).toEqual({ ...defaultLoraConfig, rank: 4, targets: ["qkv_proj"] })
    expect(loraConfigFrom({ targets: ["o_proj"] }, { defaultLoraTargets: ["qkv_proj"] }).targets).toEqual(["o_proj"])
    expect(loraConfigFrom({}, {}).targets).toEqual(["q_proj", "v_proj"])
  })
})
