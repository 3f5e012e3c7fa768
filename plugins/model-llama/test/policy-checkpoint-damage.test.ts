/**
 * A policy checkpoint records the checksum of its content
 * (src/policy/policy-checkpoint.ts): one with bytes flipped near its end (the
 * optimizer moments; the header intact) is refused at resume, naming the file
 * and the way out (a checkpoint cannot be rebuilt: delete the stage's state
 * folder), instead of resuming different numbers. A clean one resumes, and is
 * checked in full every time (it is small).
 */
import { closeSync, mkdtempSync, openSync, readSync, statSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { nllObjective, type TokenSequence } from "@refine-af/training"
import { beforeEach, describe, expect, it, vi } from "vitest"
import { CHECKPOINT_FILE } from "../src/policy/policy-checkpoint.ts"
import * as checksums from "../src/quant/content-checksum.ts"
import { runScoped } from "./support/runtime.ts"
import { EOS, smallPolicy } from "./support/policy.ts"

vi.mock("../src/quant/content-checksum.ts", async (original) => {
  const actual = await original<typeof import("../src/quant/content-checksum.ts")>()
  return { ...actual, checksumOfFile: vi.fn(actual.checksumOfFile) }
})
beforeEach(() => {
  vi.mocked(checksums.checksumOfFile).mockClear()
})

const lora = { rank: 4, alpha: 8, dropout: 0, rsLora: false, targets: ["q_proj", "v_proj"] }
const seqs: Array<TokenSequence> = [{ tokens: [1, 17, 93, 250, 41, 300, EOS], promptLength: 4 }]

/** XORs `count` bytes ending 16 bytes before the end of `file` with 0x5a, in place. */
const flipNearEnd = (file: string, count: number) => {
  const size = statSync(file).size
  const at = size - 16 - count
  const fd = openSync(file, "r+")
  try {
    const bytes = Buffer.alloc(count)
    readSync(fd, bytes, 0, count, at)
    for (let i = 0; i < count; i++) bytes[i] = bytes[i]! ^ 0x5a
    writeSync(fd, bytes, 0, count, at)
  } finally {
    closeSync(fd)
  }
}

describe("policy checkpoint: content checked", () => {
  it("a checkpoint damaged near its end is refused, naming the file and the state folder to delete; a clean one resumes, checked each time", async () => {
    const dir = mkdtempSync(nodePath.join(tmpdir(), "llama-checkpoint-"))
    const options = { lora, seed: 5, valueHead: true }
    const r = await runScoped(Effect.gen(function* () {
      const { policy } = yield* smallPolicy
      const a = yield* policy.session(options)
      yield* a.step(nllObjective, seqs, {}, { lr: 0.01 })
      yield* a.checkpoint(dir, { cursor: 1 })
      const first = (yield* policy.session({ ...options, resumeFrom: dir })).restored
      const second = (yield* policy.session({ ...options, resumeFrom: dir })).restored
      const reads = vi.mocked(checksums.checksumOfFile).mock.calls.length
      flipNearEnd(nodePath.join(dir, CHECKPOINT_FILE), 2000)
      const refused = yield* Effect.flip(policy.session({ ...options, resumeFrom: dir }))
      return { first, second, reads, refused }
    }))
    expect(r.first).toEqual({ step: 1, trainerState: { cursor: 1 } })
    expect(r.second).toEqual(r.first)
    expect(r.reads).toBe(2)
    expect(r.refused._tag).toBe("PolicyError")
    expect(r.refused.message).toContain(nodePath.join(dir, CHECKPOINT_FILE))
    expect(r.refused.message).toMatch(/damaged/)
    expect(r.refused.fix).toContain(`delete ${dir}`)
    expect(r.refused.fix).toMatch(/restart the stage from scratch/)
  }, 120_000)
})
