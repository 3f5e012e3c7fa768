/** `saturationWatch`: warns once after consecutive updates with an exactly-zero gradient and a non-zero loss, never for zero-loss updates or lr 0. */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { saturationWatch } from "../src/index.ts"

const sink = () => {
  const warnings: Array<string> = []
  const events = { progress: () => Effect.void, metric: () => Effect.void, warn: (message: string) => Effect.sync(() => void warnings.push(message)), emit: () => Effect.void }
  return { events, warnings }
}

const feed = (updates: ReadonlyArray<[loss: number, gradNorm: number, lr: number]>, vocabSize?: number) => {
  const { events, warnings } = sink()
  const watch = saturationWatch("sft", events, vocabSize)
  for (const [loss, gradNorm, lr] of updates) Effect.runSync(watch({ loss, gradNorm }, lr))
  return warnings
}

describe("saturationWatch", () => {
  it("warns once, naming the loss, ln of the vocabulary and the learning rate, after two zero-gradient updates with a loss", () => {
    const warnings = feed([[16.4, 11.1, 0], [20.0, 10.5, 5e9], [11.9295, 0, 1e10], [11.9295, 0, 9.5e9], [11.9295, 0, 8.1e9]], 151_936)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain("sft: the gradient has been exactly 0 for 2 updates while the loss is 11.9295")
    expect(warnings[0]).toContain(`is ${Math.log(151_936).toFixed(4)})`)
    expect(warnings[0]).toContain("lr 9500000000 now")
  })

  it("stays quiet for one zero-gradient update, for updates whose loss is 0 (skipped ratios, equal rewards), and at lr 0", () => {
    expect(feed([[2, 0, 1e-3], [2, 0.5, 1e-3], [2, 0, 1e-3]])).toEqual([])
    expect(feed([[0, 0, 1e-3], [0, 0, 1e-3], [0, 0, 1e-3]])).toEqual([])
    expect(feed([[2, 0, 0], [2, 0, 0], [2, 0, 0]])).toEqual([])
  })
})
