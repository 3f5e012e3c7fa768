import { Effect, Exit, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { commitFileName, openRecordWriter, readAllRecords, readCommitMarker, recordsFileName, streamRecords } from "../../src/index.ts"
import { readJsonl, tempDir } from "./fixtures.ts"

const records = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ({ n: from + k, text: `line ${from + k}` }))
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

describe("record writer", () => {
  it("writes JSONL and a commit marker matching the file", async () => {
    const dir = tempDir("writer")
    const writer = await run(openRecordWriter(dir))
    expect(writer.resumedCount).toBe(0)
    await run(writer.append(records(0, 10)))
    await run(writer.close())
    const marker = JSON.parse(fs.readFileSync(path.join(dir, commitFileName), "utf8"))
    expect(marker.count).toBe(10)
    expect(marker.bytes).toBe(fs.statSync(path.join(dir, recordsFileName)).size)
    expect(readJsonl(path.join(dir, recordsFileName))).toEqual(records(0, 10))
  })

  it("checkpoints automatically every N records", async () => {
    const dir = tempDir("writer-auto")
    const writer = await run(openRecordWriter(dir, { everyRecords: 4, everyMs: 1e9 }))
    await run(writer.append(records(0, 3)))
    expect(readCommitMarker(dir)).toEqual({ bytes: 0, count: 0 })
    await run(writer.append(records(3, 5)))
    expect(readCommitMarker(dir)).toMatchObject({ count: 5 })
  })

  it("commits an append's state with exactly its records (even none) and hands it back on reopen", async () => {
    const dir = tempDir("writer-state")
    const first = await run(openRecordWriter(dir, { everyRecords: 1e9, everyMs: 1e9 }))
    expect(first.resumedState).toBeUndefined()
    await run(first.append(records(0, 3), { state: { step: 0, rejected: 5 } }))
    await run(first.checkpoint())
    await run(first.append([], { state: { step: 1, rejected: 9 } })) // a step without records still counts
    await run(first.checkpoint())
    await run(first.append(records(3, 4), { state: { step: 2, rejected: 11 } })) // never committed: the process "dies"
    const second = await run(openRecordWriter(dir))
    expect(second.resumedCount).toBe(3)
    expect(second.resumedState).toEqual({ step: 1, rejected: 9 })
    // Appends without a state keep the last one.
    await run(second.append(records(3, 5)))
    await run(second.close())
    expect((await run(openRecordWriter(dir))).resumedState).toEqual({ step: 1, rejected: 9 })
  })

  it("discards an uncommitted tail and a torn line on reopen", async () => {
    const dir = tempDir("writer-torn")
    const first = await run(openRecordWriter(dir, { everyRecords: 1e9, everyMs: 1e9 }))
    await run(first.append(records(0, 6)))
    await run(first.checkpoint())
    await run(first.append(records(6, 9))) // never committed: the process "dies" here
    // A torn, half-written line as left by kill -9 in the middle of a write.
    fs.appendFileSync(path.join(dir, recordsFileName), '{"n":9,"text":"li')

    const second = await run(openRecordWriter(dir))
    expect(second.resumedCount).toBe(6)
    expect(await run(second.resumed())).toEqual(records(0, 6))
    await run(second.append(records(6, 12)))
    await run(second.close())
    expect(readJsonl(path.join(dir, recordsFileName))).toEqual(records(0, 12))
  })

  it("refuses a data file shorter than its commit marker", async () => {
    const dir = tempDir("writer-short")
    const writer = await run(openRecordWriter(dir))
    await run(writer.append(records(0, 5)))
    await run(writer.close())
    fs.truncateSync(path.join(dir, recordsFileName), 10)
    const exit = await Effect.runPromiseExit(openRecordWriter(dir))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error.message : "")).toContain("shorter")
  })

  it("rejects values that are not JSON objects", async () => {
    const dir = tempDir("writer-bad")
    const writer = await run(openRecordWriter(dir))
    const exit = await Effect.runPromiseExit(writer.append([[1, 2] as never]))
    expect(Exit.isFailure(exit)).toBe(true)
  })
})

describe("record reader", () => {
  const write = (content: string) => {
    const file = path.join(tempDir("reader"), recordsFileName)
    fs.writeFileSync(file, content)
    return file
  }

  it("streams records lazily across chunk boundaries", async () => {
    // Multi-byte characters make chunk boundaries fall inside UTF-8 sequences.
    const big = records(0, 40000).map((record) => ({ ...record, text: `${record.text} é—✓` }))
    const file = write(big.map((record) => JSON.stringify(record) + "\n").join(""))
    expect(fs.statSync(file).size).toBeGreaterThan(1 << 20) // spans several 1 MiB reads
    expect(await run(readAllRecords(file))).toEqual(big)
    expect(await run(Stream.runCollect(Stream.take(streamRecords(file), 3)))).toEqual(big.slice(0, 3))
  })

  it("reports a corrupt line with file:line", async () => {
    const file = write('{"a":1}\n{"a":2}\nnot json\n{"a":4}\n')
    const exit = await Effect.runPromiseExit(readAllRecords(file))
    const error = Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error : undefined
    expect(error?._tag).toBe("RecordStreamError")
    expect(error?.message).toContain(`${file}:3`)
  })

  it("reports a missing final newline", async () => {
    const file = write('{"a":1}\n{"a":2}')
    const exit = await Effect.runPromiseExit(readAllRecords(file))
    expect(Exit.isFailure(exit)).toBe(true)
  })

  it("reads only the committed byte range when asked", async () => {
    const file = write('{"a":1}\n{"a":2}\n{"a":')
    expect(await run(readAllRecords(file, { byteLength: 16 }))).toEqual([{ a: 1 }, { a: 2 }])
  })
})
