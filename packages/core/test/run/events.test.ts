import { Effect } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { describeProgress, openEventLog, plainProgress, silentProgress, type ProgressDisplay } from "../../src/index.ts"
import { readJsonl, tempDir } from "./fixtures.ts"

const recordingDisplay = () => {
  const calls: Array<string> = []
  const display: ProgressDisplay = {
    stageStart: (stage) => calls.push(`start ${stage}`),
    progress: (stage, done, total) => calls.push(`progress ${stage} ${done}/${total}`),
    stageEnd: (stage, line) => calls.push(`end ${stage} ${line}`),
    message: (line) => calls.push(`message ${line}`)
  }
  return { calls, display }
}

describe("event log", () => {
  it("writes one timestamped JSON object per line, tagged with the stage", async () => {
    const file = path.join(tempDir("events"), "events.jsonl")
    const { calls, display } = recordingDisplay()
    const log = openEventLog(file, display)
    const sink = log.sinkFor("generate")
    log.write("run_start", { runId: "r1", ignored: undefined })
    await Effect.runPromise(Effect.all([
      sink.metric("loss", 0.5, 3),
      sink.warn("few seeds"),
      sink.emit("filter_rejections", { rouge: 4 })
    ]))
    log.close()
    const events = readJsonl(file)
    expect(events.map(({ ts: _ts, ...rest }) => rest)).toEqual([
      { type: "run_start", runId: "r1" },
      { type: "metric", stage: "generate", name: "loss", value: 0.5, step: 3 },
      { type: "warning", stage: "generate", message: "few seeds" },
      { type: "filter_rejections", stage: "generate", rouge: 4 }
    ])
    for (const event of events) expect(new Date(String(event["ts"])).toISOString()).toBe(event["ts"])
    expect(calls).toEqual(["message warning [generate]: few seeds"])
  })

  it("throttles progress lines in the file but forwards every update to the display", async () => {
    const file = path.join(tempDir("events"), "events.jsonl")
    const { calls, display } = recordingDisplay()
    const log = openEventLog(file, display, 3_600_000)
    const sink = log.sinkFor("s")
    for (let done = 1; done <= 100; done++) await Effect.runPromise(sink.progress(done, 100))
    log.close()
    const progress = readJsonl(file).filter((event) => event["type"] === "progress")
    // The first update and the final one (done === total) are always written; the burst in between is not.
    expect(progress.map((event) => event["done"])).toEqual([1, 100])
    expect(calls.filter((call) => call.startsWith("progress"))).toHaveLength(100)
  })
})

describe("progress display", () => {
  it("describes rate and ETA", () => {
    expect(describeProgress(50, 200, 10_000)).toBe("50/200 (25%) 5.0/s ETA 30s")
    expect(describeProgress(7, undefined, 1000)).toBe("7 7.0/s")
    expect(describeProgress(0, 10, 1000)).toContain("ETA ?")
    // Slower than one item in 10 s (PPO iterations of a large model): seconds per item, not "0.0/s".
    expect(describeProgress(3, 8, 69_000)).toBe("3/8 (37%) 23.0 s each ETA 1m55s")
  })

  it("rounds the ETA before splitting it into units: never 1m60s or 60s", () => {
    // One item left at one item per 119.6 s (59.6 s, 3599.6 s): the remainder alone would round up to 60.
    expect(describeProgress(1, 2, 119_600)).toBe("1/2 (50%) 119.6 s each ETA 2m0s")
    expect(describeProgress(1, 2, 59_600)).toBe("1/2 (50%) 59.6 s each ETA 1m0s")
    expect(describeProgress(1, 2, 3_599_600)).toBe("1/2 (50%) 3599.6 s each ETA 1h0m")
    expect(describeProgress(1, 2, 89_400)).toBe("1/2 (50%) 89.4 s each ETA 1m29s")
  })

  it("takes the step budget into account: the ETA is the sooner of items done and budget used up", () => {
    // 8 of 100 instructions after 2 of 6 steps in 20 s: the items would need 3m50s, the budget ends in 40 s.
    expect(describeProgress(8, 100, 20_000)).toBe("8/100 (8%) 0.4/s ETA 3m50s")
    expect(describeProgress(8, 100, 20_000, { step: 2, steps: 6 })).toBe("8/100 (8%) 0.4/s step 2/6 ETA 40s")
    // Items finishing first still win.
    expect(describeProgress(90, 100, 20_000, { step: 2, steps: 60 })).toBe("90/100 (90%) 4.5/s step 2/60 ETA 2s")
    expect(describeProgress(3, undefined, 10_000, { step: 1, steps: 4 })).toBe("3 0.3/s step 1/4 ETA 30s")
  })

  it("plain mode prints at most one progress line per interval", () => {
    const lines: Array<string> = []
    const display = plainProgress((line) => lines.push(line), 60_000)
    display.stageStart("gen", 1, 2)
    for (let done = 1; done <= 1000; done++) display.progress("gen", done, 1000)
    display.stageEnd("gen", "done")
    expect(lines).toEqual(["[1/2] gen: started", "  gen: done"])
    const eager = plainProgress((line) => lines.push(line), 0)
    eager.stageStart("x", 1, 1)
    eager.progress("x", 1, 2)
    expect(lines.at(-1)).toMatch(/^ {2}x: 1\/2 \(50%\)/)
    silentProgress.progress("x", 1, 2) // no output, no throw
  })
})
