import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { commitFileName, openRecordWriter, readCommitMarker, recordsFileName } from "../../src/index.ts"
import { tempDir } from "./fixtures.ts"

const records = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ n: from + k, text: `line ${from + k}` }))
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

const openError = async (dir: string) => {
  const exit = await Effect.runPromiseExit(openRecordWriter(dir))
  return Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error : undefined
}

const committedStage = async (name: string, count: number) => {
  const dir = tempDir(name)
  const writer = await run(openRecordWriter(dir))
  await run(writer.append(records(0, count)))
  await run(writer.close())
  return dir
}

const editMarker = (dir: string, edit: (marker: Record<string, unknown>) => Record<string, unknown>) => {
  const file = path.join(dir, commitFileName)
  fs.writeFileSync(file, JSON.stringify(edit(JSON.parse(fs.readFileSync(file, "utf8")))))
}

describe("commit marker verified against the file", () => {
  it("records a SHA-256 of the committed bytes", async () => {
    const dir = await committedStage("marker-sha", 5)
    expect(readCommitMarker(dir)).toMatchObject({ count: 5, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })
  })

  it("refuses a marker that claims more records than the bytes hold (instead of skipping them)", async () => {
    const dir = await committedStage("marker-count", 834)
    editMarker(dir, (marker) => ({ ...marker, count: 3000 }))
    const error = await openError(dir)
    expect(error?._tag).toBe("RecordStreamError")
    expect(error?.message).toContain("claims 3000 records")
    expect(error?.message).toContain("hold 834 complete records")
    expect(error?.message).toContain(`Delete the stage folder ${dir} and resume`)
  })

  it("refuses a marker whose byte count ends inside a record", async () => {
    const dir = await committedStage("marker-bytes", 10)
    editMarker(dir, (marker) => ({ ...marker, bytes: (marker.bytes as number) - 3 }))
    expect((await openError(dir))?.message).toContain("and a partial one")
  })

  it("refuses committed bytes changed after they were written (same size, same count)", async () => {
    const dir = await committedStage("marker-checksum", 10)
    const data = path.join(dir, recordsFileName)
    fs.writeFileSync(data, fs.readFileSync(data, "utf8").replace("line 3", "line 7"))
    expect((await openError(dir))?.message).toContain("do not match the checksum")
  })

  it("still reopens a marker written before checksums existed, when it matches the file", async () => {
    const dir = await committedStage("marker-legacy", 6)
    editMarker(dir, ({ sha256: _dropped, ...rest }) => rest)
    const writer = await run(openRecordWriter(dir))
    expect(writer.resumedCount).toBe(6)
    await run(writer.append(records(6, 8)))
    await run(writer.close())
    expect(readCommitMarker(dir)).toMatchObject({ count: 8, sha256: expect.any(String) })
    const again = await run(openRecordWriter(dir))
    expect(await run(again.resumed())).toEqual(records(0, 8))
  })

  it("refuses a marker of the wrong shape", async () => {
    const dir = await committedStage("marker-null", 2)
    fs.writeFileSync(path.join(dir, commitFileName), "null")
    expect((await openError(dir))?.message).toContain("commit marker is damaged")
  })
})
