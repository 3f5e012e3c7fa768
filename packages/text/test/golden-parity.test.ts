import { existsSync, readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { exactMatch, rougeLMax } from "../src/index.ts"

// Optional parity check against the official Python scorers' outputs (read-only shared data, never copied into the repo).
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const goldenFile = path.resolve(repoRoot, "../shared/golden/superni-metrics-dev.jsonl")
const goldenPresent = existsSync(goldenFile)
if (!goldenPresent) console.log(`golden parity skipped: ${goldenFile} not found (it lives outside the repo)`)

interface GoldenCase {
  readonly id: string
  readonly prediction: string
  readonly references: ReadonlyArray<string>
  readonly rougeL_stem: number
  readonly rougeL_nostem: number
  readonly exact_match: 0 | 1
}

const loadCases = (): ReadonlyArray<GoldenCase> =>
  readFileSync(goldenFile, "utf8").split("\n").filter((line) => line.length > 0).map((line) => JSON.parse(line))

describe.skipIf(!goldenPresent)("parity with the official SuperNI / Self-Instruct scorers", () => {
  const cases = goldenPresent ? loadCases() : []

  it("has the 490 documented cases", () => {
    expect(cases).toHaveLength(490)
  })

  // Bitwise equality (Object.is), stricter than the 1e-9 acceptance bound: the Self-Instruct > 0.7 decision needs it.
  it.each(["rougeL_stem", "rougeL_nostem", "exact_match"] as const)("%s matches bitwise on every case", (field) => {
    const mismatches = cases.flatMap((golden) => {
      const actual = field === "exact_match"
        ? exactMatch(golden.prediction, golden.references)
        : rougeLMax(golden.prediction, golden.references, { stem: field === "rougeL_stem" })
      return Object.is(actual, golden[field]) ? [] : [{ id: golden.id, expected: golden[field], actual }]
    })
    expect(mismatches).toEqual([])
  })
})
