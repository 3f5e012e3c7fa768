/**
 * export.ts + check.py end to end, with check.py reading stand-ins for transformers and peft
 * (./stand-in: the independent float64 golden Llama behind their loading API), since this
 * repository's machines cannot install the real ones. Proves the plumbing (files, positions,
 * PEFT names, merged folder) and that check.py fails on a wrong token or log-probability;
 * agreement with transformers itself needs a machine that has it (tools/gpu-check/device-run.sh).
 * Skipped with a printed reason without Debian's python3-torch.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { exportPreset, type PresetExpectation, type Variant } from "./export.ts"

const PYTHON = "/usr/bin/python3"
const probe = spawnSync(PYTHON, ["-c", "import torch, numpy; print(torch.__version__)"], { encoding: "utf8" })
const torchVersion = probe.status === 0 ? probe.stdout.trim() : undefined
if (torchVersion === undefined) console.log(`hf-parity dry run skipped: ${PYTHON} with torch and numpy not available (apt-get install python3-torch python3-numpy)`)

interface Report {
  readonly result: string
  readonly failed: ReadonlyArray<string>
  readonly presets: Record<string, Record<string, { pass: boolean; error?: string; maxAbs?: number; worstGap?: number; adapterMovedLogprobsBy?: number }>>
}

const check = (dir: string): { status: number | null; report: Report; stderr: string } => {
  const out = nodePath.join(dir, "report.json")
  const child = spawnSync(PYTHON, [nodePath.join(import.meta.dirname, "check.py"), dir, "--out", out], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: nodePath.join(import.meta.dirname, "stand-in"), PYTHONDONTWRITEBYTECODE: "1" }
  })
  return { status: child.status, report: JSON.parse(readFileSync(out, "utf8")) as Report, stderr: child.stderr }
}

/** Exports one variant and checks it; every check but the tokenizer's (the stand-in has none) must pass. */
const exportAndCheckClean = async (variant: Variant) => {
  const dir = mkdtempSync(nodePath.join(tmpdir(), "hf-parity-"))
  const expected = await Effect.runPromise(Effect.scoped(exportPreset(dir, variant)))
  const result = check(dir)
  expect(result.report.failed, result.stderr).toEqual([`${variant}.tokenizer`, `${variant}.chatTemplate`])
  return { expected, checks: result.report.presets[variant]! }
}

describe.skipIf(torchVersion === undefined)("tools/hf-parity with stand-ins for transformers and peft", () => {
  it("mistral (sliding window, GQA 4:1): our log-probabilities, batched greedy tokens, PEFT adapter and merged folder agree; a wrong token or log-probability fails", async () => {
    const dir = mkdtempSync(nodePath.join(tmpdir(), "hf-parity-"))
    const expected = await Effect.runPromise(Effect.scoped(exportPreset(dir, "mistral")))
    expect(expected.greedy.every((g) => g.length === 12)).toBe(true)

    const clean = check(dir)
    expect(clean.status, clean.stderr).toBe(1)
    // Only the tokenizer checks fail: the stand-in has no Python tokenizer.
    expect(clean.report.failed).toEqual(["mistral.tokenizer", "mistral.chatTemplate"])
    const checks = clean.report.presets["mistral"]!
    expect(checks["tokenizer"]!.error).toContain("stand-in has no tokenizer")
    expect(checks["logprobs"]!.maxAbs).toBeLessThan(1e-3)
    expect(checks["greedy"]!.worstGap).toBeLessThanOrEqual(1e-4)
    expect(checks["peft"]!.adapterMovedLogprobsBy).toBeGreaterThan(0.1)

    // One greedy token replaced, one adapted log-probability off by 0.01: both must be caught.
    const file = nodePath.join(dir, "mistral", "expected.json")
    const wrong = JSON.parse(readFileSync(file, "utf8")) as PresetExpectation & { greedy: Array<Array<number>>; adapterLogprobs: Array<Array<number>> }
    wrong.greedy[2]![5] = (wrong.greedy[2]![5]! + 1) % 151669
    wrong.adapterLogprobs[1]![3]! += 0.01
    writeFileSync(file, JSON.stringify(wrong))
    const broken = check(dir)
    expect(broken.status).toBe(1)
    expect(broken.report.failed).toEqual(["mistral.tokenizer", "mistral.chatTemplate", "mistral.greedy", "mistral.peft", "mistral.merged"])
  }, 180_000)

  it("gemma3 (multimodal: the decoder under model.language_model., PEFT names and pattern there, a merged folder keeping the vision tower): every check but the tokenizer's passes", async () => {
    const { checks } = await exportAndCheckClean("gemma3")
    expect(checks["logprobs"]!.maxAbs).toBeLessThan(1e-3)
    expect(checks["peft"]!.adapterMovedLogprobsBy).toBeGreaterThan(0.1)
  }, 180_000)

  it("phi3 (fused projections, partial rotary, longrope switching while generating): every check but the tokenizer's passes, the greedy one by each prefix", async () => {
    const { expected, checks } = await exportAndCheckClean("phi3")
    // Prompts and continuations cross the preset's 16-token original context.
    expect(expected.tokenIds.some((ids, i) => ids.length <= 16 && ids.length + expected.greedy[i]!.length > 16)).toBe(true)
    expect(checks["greedy"]!.worstGap).toBeLessThanOrEqual(1e-4)
    expect(checks["peft"]!.adapterMovedLogprobsBy).toBeGreaterThan(0.1)
  }, 180_000)
})
