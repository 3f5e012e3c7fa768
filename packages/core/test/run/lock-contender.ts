/**
 * A child process for the lock race test: takes and releases the run lock of a folder many
 * times and reports, as one JSON line, how often it tried, held it and was refused, the
 * errors it met, and any moment where another process held the lock at the same time.
 *
 * After its rounds, a process that never held the lock keeps trying, a millisecond apart, for
 * up to 20 s: on a loaded machine a holder can be descheduled for longer than a tight loop of
 * rounds takes, refusing every one of them (a clean refusal each time, but then the test cannot
 * tell a lock that is merely busy from one that is stuck).
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
const deadline = Date.now() + 20_000
const pause = new Int32Array(new SharedArrayBuffer(4))
// Attempts so far (the rounds, then any retries).
let round = 0
for (; round < rounds || (held === 0 && Date.now() < deadline); round++) {
  if (round >= rounds) Atomics.wait(pause, 0, 0, 1)
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
process.stdout.write(`${JSON.stringify({ attempts: round, held, refused, overlaps, errors: errors.slice(0, 3) })}\n`)
