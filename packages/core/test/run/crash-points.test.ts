/**
 * The writer's crash contract, exhaustively on a small stream: whatever a
 * `kill -9` leaves past the last commit (any prefix of the next batch, a torn
 * line, a leftover temp marker), reopening keeps exactly the committed records,
 * and finishing the stream gives the same bytes as an uninterrupted write.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { commitFileName, openRecordWriter, recordsFileName } from "../../src/index.ts"
import { tempDir } from "./fixtures.ts"

const recordAt = (n: number) => ({ n, text: `record ${n} é` })
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

const writeAll = async (dir: string, from: number, to: number) => {
  const writer = await run(openRecordWriter(dir))
  expect(writer.resumedCount).toBe(from)
  for (let n = from; n < to; n++) await run(writer.append([recordAt(n)]))
  await run(writer.close())
}

describe("crash at every byte of an uncommitted batch", () => {
  it("reopening always yields the committed prefix and finishing matches an uninterrupted run", async () => {
    const referenceDir = tempDir("crash-ref")
    await writeAll(referenceDir, 0, 8)
    const reference = fs.readFileSync(path.join(referenceDir, recordsFileName))
    const committedBytes = Buffer.concat([0, 1, 2, 3, 4].map((n) => Buffer.from(`${JSON.stringify(recordAt(n))}\n`))).length

    for (let tail = 0; tail <= reference.length - committedBytes; tail++) {
      const dir = tempDir("crash")
      await writeAll(dir, 0, 5)
      // The next batch's bytes reached the file only partly before the crash...
      fs.appendFileSync(path.join(dir, recordsFileName), reference.subarray(committedBytes, committedBytes + tail))
      // ...and a marker update was being written to its temp file.
      fs.writeFileSync(path.join(dir, `${commitFileName}.999.tmp`), '{"bytes":99')
      await writeAll(dir, 5, 8)
      expect(fs.readFileSync(path.join(dir, recordsFileName)).equals(reference)).toBe(true)
    }
  })
})
