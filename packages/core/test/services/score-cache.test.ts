import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { openScoreCache, scoreThroughCache, type Sample } from "../../src/index.ts"

const sample = (output: string): Sample => ({ instruction: "Say something", input: "", output })

describe("score cache", () => {
  it("scores each distinct sample once, keeps order, and a reopened cache re-scores nothing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "score-cache-"))
    const calls: Array<Array<string>> = []
    const scorer = (missing: ReadonlyArray<Sample>) => {
      calls.push(missing.map((s) => s.output))
      return Effect.succeed(missing.map((s) => ({ value: s.output.length, parts: { twice: 2 * s.output.length } })))
    }
    const first = openScoreCache({ scorerId: "len", cacheDir: dir })
    const scores = await Effect.runPromise(scoreThroughCache(first, [sample("ab"), sample("abcd"), sample("ab")], scorer))
    expect(scores.map((s) => s.value)).toEqual([2, 4, 2])
    expect(calls).toEqual([["ab", "abcd"]])

    const reopened = openScoreCache({ scorerId: "len", cacheDir: dir })
    const again = await Effect.runPromise(scoreThroughCache(reopened, [sample("abcd"), sample("xyz"), sample("ab")], scorer))
    expect(again).toEqual([{ value: 4, parts: { twice: 8 } }, { value: 3, parts: { twice: 6 } }, { value: 2, parts: { twice: 4 } }])
    expect(calls).toEqual([["ab", "abcd"], ["xyz"]])
    expect(reopened.stats()).toEqual({ hits: 2, misses: 1 })
  })

  it("keeps scorer identities apart and skips a torn last line", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "score-cache-"))
    const a = openScoreCache({ scorerId: "a", cacheDir: dir })
    a.store([[sample("x"), { value: 1 }]])
    fs.appendFileSync(a.file!, '{"k":"deadbeef","s":{"val')
    expect(openScoreCache({ scorerId: "b", cacheDir: dir }).lookup(sample("x"))).toBeUndefined()
    const reopened = openScoreCache({ scorerId: "a", cacheDir: dir })
    expect(reopened.lookup(sample("x"))).toEqual({ value: 1 })
    expect(reopened.lookup(sample("y"))).toBeUndefined()
  })
})
