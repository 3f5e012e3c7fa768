/** `readJsonl`: a data file with a byte order mark reads as without; bytes that are not UTF-8 (silently U+FFFD before, and trained on) and bad JSON are refused naming where. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { readJsonl } from "../src/index.ts"

const file = (bytes: Buffer) => {
  const at = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sft-data-")), "data.jsonl")
  fs.writeFileSync(at, bytes)
  return at
}
const row = { instruction: "Say hi.", input: "", output: "hi" }

describe("readJsonl", () => {
  it("reads a file that starts with a byte order mark as the same file without one", async () => {
    const plain = await Effect.runPromise(readJsonl(file(Buffer.from(`${JSON.stringify(row)}\n`))))
    const bom = await Effect.runPromise(readJsonl(file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${JSON.stringify(row)}\n`)]))))
    expect(bom.map((r) => r.raw)).toEqual(plain.map((r) => r.raw))
    expect(bom[0]!.raw).toEqual(row)
  })

  it("refuses bytes that are not UTF-8, naming the byte and line", async () => {
    const before = Buffer.from(`${JSON.stringify(row)}\n{"instruction":"caf`)
    const latin1 = file(Buffer.concat([before, Buffer.from([0xe9]), Buffer.from('","output":"x"}\n')]))
    const exit = await Effect.runPromiseExit(readJsonl(latin1))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain(`${latin1} is not UTF-8 text: byte ${before.length + 1} (line 2) starts "\\xe9`)
  })

  it("says why a line is not JSON", async () => {
    const exit = await Effect.runPromiseExit(readJsonl(file(Buffer.from('{"instruction": "a",}\n'))))
    expect(String(exit)).toMatch(/line 1 of .*data\.jsonl is not valid JSON \(.+\)/)
  })
})
