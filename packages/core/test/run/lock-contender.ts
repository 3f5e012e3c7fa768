/**
 * A child process for the lock race test: takes and releases the run lock of a folder many
 * times and reports, as one JSON line, how often it held it, how often it was refused, the
 * errors it met, and any moment where another process held the lock at the same time.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { acquireRunLock } from "../../src/run/run-lock.ts"

const [dir, roundsText] = process.argv.slice(2)
const rounds = Number(roundsText)
const heldMarker = path.join(dir!, "held")
let held = 0
let refused = 0
let overlaps = 0
const errors: Array<string> = []
for (let round = 0; round < rounds; round++) {
  let lock: ReturnType<typeof acquireRunLock>
  try {
    lock = acquireRunLock(dir!)
  } catch (error) {
    errors.push(String(error))
    continue
  }
  if (typeof lock !== "function") {
    refused++
    continue
  }
  held++
  try {
    fs.writeFileSync(heldMarker, String(process.pid), { flag: "wx" })
    fs.rmSync(heldMarker)
  } catch {
    overlaps++
  }
  lock()
}
process.stdout.write(`${JSON.stringify({ held, refused, overlaps, errors: errors.slice(0, 3) })}\n`)
