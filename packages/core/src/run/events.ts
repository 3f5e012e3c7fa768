/**
 * The run's event stream: one JSON object per line in `events.jsonl`, each with
 * an ISO timestamp and a `type` (run_start, stage_start, progress, metric,
 * warning, cache_hit, stage_end, run_end, ...). Progress events are throttled
 * in the file (one per stage per second) but every one reaches the display.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import type { EventSink, Json, JsonRecord } from "../stage/context.ts"
import type { ProgressDisplay } from "./progress.ts"

/** One line of `events.jsonl`. */
export interface RunEvent extends JsonRecord {
  readonly ts: string
  readonly type: string
}

/** Appends run events and forwards progress to the display. */
export interface EventLog {
  /** Writes one event line (synchronously: events survive a crash right after). */
  readonly write: (type: string, data?: Readonly<Record<string, Json | undefined>>) => void
  /** The `EventSink` handed to a stage (events tagged `stage`) or resource (tagged `resource`). */
  readonly sinkFor: (source: string, kind?: "stage" | "resource") => EventSink
  /** The warnings `source` gave through its sink so far, in order. */
  readonly warningsOf: (source: string) => ReadonlyArray<string>
  readonly display: ProgressDisplay
  readonly close: () => void
}

/** Opens (appending) the events file of a run; progress lines are written at most once per `progressIntervalMs` per stage. */
export const openEventLog = (file: string, display: ProgressDisplay, progressIntervalMs = 1000): EventLog => {
  const fd = fs.openSync(file, "a")
  let closed = false
  const lastProgressWrite = new Map<string, number>()
  const warnings = new Map<string, Array<string>>()

  const write: EventLog["write"] = (type, data = {}) => {
    if (closed) return
    const event: Record<string, Json> = { ts: new Date().toISOString(), type }
    for (const [key, value] of Object.entries(data)) if (value !== undefined) event[key] = value
    fs.writeSync(fd, `${JSON.stringify(event)}\n`)
    display.event?.(event)
  }

  const sinkFor = (source: string, kind: "stage" | "resource" = "stage"): EventSink => ({
    progress: (done, total, budget) =>
      Effect.sync(() => {
        display.progress(source, done, total, budget)
        const now = Date.now()
        if (display.event !== undefined && now - (lastProgressWrite.get(source) ?? 0) < progressIntervalMs && done !== total) {
          display.event({ ts: new Date(now).toISOString(), type: "progress", [kind]: source, done, ...(total === undefined ? {} : { total }) })
        }
        if (now - (lastProgressWrite.get(source) ?? 0) < progressIntervalMs && done !== total) return
        lastProgressWrite.set(source, now)
        write("progress", { [kind]: source, done, total, ...(budget === undefined ? {} : { step: budget.step, steps: budget.steps }) })
      }),
    metric: (name, value, step) => Effect.sync(() => write("metric", { [kind]: source, name, value, step })),
    warn: (message) =>
      Effect.sync(() => {
        warnings.set(source, [...(warnings.get(source) ?? []), message])
        write("warning", { [kind]: source, message })
        display.message(`warning [${source}]: ${message}`)
      }),
    emit: (type, data) => Effect.sync(() => write(type, { ...data, [kind]: source }))
  })

  return {
    write,
    sinkFor,
    warningsOf: (source) => warnings.get(source) ?? [],
    display,
    close: () => {
      if (closed) return
      closed = true
      fs.closeSync(fd)
    }
  }
}
