/** Edit distance and did-you-mean. */
import { describe, expect, it } from "vitest"
import { didYouMean, editDistance } from "@refine-af/core"

describe("editDistance", () => {
  it.each([
    ["", "", 0],
    ["abc", "", 3],
    ["kitten", "sitting", 3],
    ["flaw", "lawn", 2],
    ["gen", "gne", 1],
    ["ca", "abc", 3],
    ["stage", "stages", 1]
  ])("%s → %s is %i", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance)
    expect(editDistance(b, a)).toBe(distance)
  })
})

describe("didYouMean", () => {
  const components = ["reward/composite", "reward/unieval", "demo/lines", "demo/uppercase"]

  it("suggests the closest plausible name", () => {
    expect(didYouMean("reward/composit", components)).toBe("reward/composite")
    expect(didYouMean("demo/upercase", components)).toBe("demo/uppercase")
    expect(didYouMean("DEMO/LINES", components)).toBe("demo/lines")
  })

  it("suggests nothing when no name is close", () => {
    expect(didYouMean("trainer/sft", components)).toBeUndefined()
    expect(didYouMean("ab", ["xy"])).toBeUndefined()
  })
})
