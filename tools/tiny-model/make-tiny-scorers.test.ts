/**
 * The committed tiny scorer folders under tools/golden/ are our tool's output:
 * `writeTinyScorer` with each folder's config and seed writes byte-identical
 * `model.safetensors` (the float64 golden scripts read exactly these weights,
 * so the goldens check our loaders on weights our tool made). A changed seed
 * writes different bytes, so the check can fail.
 */
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { makeTinyScorer, TINY_SCORERS } from "./make-tiny-scorers.ts"

const golden = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "../golden")

describe("tiny scorer folders", () => {
  it.each(TINY_SCORERS.map((s) => [s.folder, s] as const))("%s: the committed weights are what the tool writes", async (_, scorer) => {
    const out = mkdtempSync(nodePath.join(tmpdir(), "tiny-scorer-"))
    await makeTinyScorer(scorer, out)
    const committed = readFileSync(nodePath.join(golden, scorer.folder, "model.safetensors"))
    expect(readFileSync(nodePath.join(out, "model.safetensors")).equals(committed)).toBe(true)
    const reseeded = mkdtempSync(nodePath.join(tmpdir(), "tiny-scorer-"))
    await makeTinyScorer({ ...scorer, seed: scorer.seed + 100 } as never, reseeded)
    expect(readFileSync(nodePath.join(reseeded, "model.safetensors")).equals(committed)).toBe(false)
  })
})
