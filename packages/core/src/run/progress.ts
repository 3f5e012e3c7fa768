/**
 * What a person watching a run sees: a live bar per stage on a terminal,
 * plain throttled lines otherwise (CI logs), or nothing (library use, tests).
 * Everything goes to stderr so stdout stays clean for results.
 */

/** A stage's step budget: it stops after `steps` steps even if `total` items are not done. */
export interface StepBudget {
  /** Steps finished so far. */
  readonly step: number
  readonly steps: number
}

/** Receives run progress for display. All methods are synchronous and cheap. */
export interface ProgressDisplay {
  readonly stageStart: (stage: string, position: number, stageCount: number) => void
  readonly progress: (stage: string, done: number, total?: number, budget?: StepBudget) => void
  readonly stageEnd: (stage: string, line: string) => void
  /** A line for the user (warnings, cache hits, the resume hint). */
  readonly message: (line: string) => void
  /** Every event as it is written to `events.jsonl` (progress unthrottled), for `--log-level debug`. */
  readonly event?: (event: Readonly<Record<string, unknown>>) => void
}

/**
 * `display` that also prints every run event as a `debug` line through `write`
 * (what `refine-af run --log-level debug` shows).
 *
 * @example
 * ```ts
 * import { plainProgress, withDebugEvents } from "@refine-af/core"
 * const display = withDebugEvents(plainProgress(console.error), console.error)
 * ```
 */
export const withDebugEvents = (display: ProgressDisplay, write: (line: string) => void): ProgressDisplay => ({
  ...display,
  event: (event) => {
    display.event?.(event)
    const { ts, type, ...data } = event
    write(`debug ${String(ts).slice(11, 23)} ${String(type)} ${JSON.stringify(data)}`)
  }
})

/** Shows nothing. */
export const silentProgress: ProgressDisplay = {
  stageStart: () => {},
  progress: () => {},
  stageEnd: () => {},
  message: () => {}
}

/** "45s", "3m5s", "2h10m": a duration in seconds as the progress lines and `refine-af runs` show it. */
export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "?"
  // Round once, then split: rounding the remainder alone turns 119.6 s into "1m60s".
  const whole = Math.round(seconds)
  if (whole < 60) return `${whole}s`
  const minutes = Math.floor(whole / 60)
  if (minutes < 60) return `${minutes}m${whole % 60}s`
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`
}

interface Tracker {
  readonly startedAt: number
  lastShown: number
}

/**
 * Rate and ETA text, e.g. `1200/2000 (60%) 412.3/s ETA 2s`, or `3/8 (37%) 23.0 s each ETA 1m55s` when an
 * item takes over 10 s. With a step budget the ETA is the
 * sooner of "all items done" and "budget used up" (`8/100 (8%) 0.5/s step 2/6 ETA 32s`): a
 * stage that stops at its last step does not promise hours it will never take.
 */
export const describeProgress = (done: number, total: number | undefined, elapsedMs: number, budget?: StepBudget): string => {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
  // Items slower than 10 s (a PPO iteration of a large model) read as seconds per item, not "0.0/s".
  const rateText = rate > 0 && rate < 0.1 ? `${(1 / rate).toFixed(1)} s each` : `${rate.toFixed(1)}/s`
  const byBudget = budget !== undefined && budget.step > 0 ? ((Math.max(0, budget.steps - budget.step) * elapsedMs) / budget.step) / 1000 : Number.POSITIVE_INFINITY
  const stepText = budget === undefined ? "" : ` step ${budget.step}/${budget.steps}`
  if (total === undefined || total <= 0) return `${done} ${rateText}${stepText}${Number.isFinite(byBudget) ? ` ETA ${formatDuration(byBudget)}` : ""}`
  const byItems = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY
  return `${done}/${total} (${Math.floor((100 * done) / total)}%) ${rateText}${stepText} ETA ${formatDuration(Math.min(byItems, byBudget))}`
}

/** Plain progress lines, at most one per stage every `intervalMs` (default 5 s). */
export const plainProgress = (write: (line: string) => void, intervalMs = 5000): ProgressDisplay => {
  const trackers = new Map<string, Tracker>()
  return {
    stageStart: (stage, position, stageCount) => {
      trackers.set(stage, { startedAt: Date.now(), lastShown: Date.now() })
      write(`[${position}/${stageCount}] ${stage}: started`)
    },
    progress: (stage, done, total, budget) => {
      const tracker = trackers.get(stage)
      if (!tracker || Date.now() - tracker.lastShown < intervalMs) return
      tracker.lastShown = Date.now()
      write(`  ${stage}: ${describeProgress(done, total, Date.now() - tracker.startedAt, budget)}`)
    },
    stageEnd: (stage, line) => {
      trackers.delete(stage)
      write(`  ${stage}: ${line}`)
    },
    message: write
  }
}

/** A live, redrawn bar on a terminal (at most 10 redraws per second). */
export const ttyProgress = (stream: NodeJS.WriteStream): ProgressDisplay => {
  const trackers = new Map<string, Tracker>()
  let barShown = false
  const clearBar = () => {
    if (barShown) stream.write("\r\x1b[K")
    barShown = false
  }
  const line = (text: string) => {
    clearBar()
    stream.write(`${text}\n`)
  }
  return {
    stageStart: (stage, position, stageCount) => {
      trackers.set(stage, { startedAt: Date.now(), lastShown: 0 })
      line(`[${position}/${stageCount}] ${stage}`)
    },
    progress: (stage, done, total, budget) => {
      const tracker = trackers.get(stage)
      if (!tracker || Date.now() - tracker.lastShown < 100) return
      tracker.lastShown = Date.now()
      const width = 24
      const filled = total && total > 0 ? Math.min(width, Math.round((width * done) / total)) : 0
      const bar = total && total > 0 ? `[${"#".repeat(filled)}${".".repeat(width - filled)}] ` : ""
      const text = `  ${stage} ${bar}${describeProgress(done, total, Date.now() - tracker.startedAt, budget)}`
      stream.write(`\r\x1b[K${text.slice(0, (stream.columns ?? 100) - 1)}`)
      barShown = true
    },
    stageEnd: (stage, text) => {
      trackers.delete(stage)
      line(`  ${stage}: ${text}`)
    },
    message: line
  }
}

/** A terminal bar when stderr is a TTY, plain lines otherwise. */
export const autoProgress = (): ProgressDisplay =>
  process.stderr.isTTY ? ttyProgress(process.stderr) : plainProgress((text) => process.stderr.write(`${text}\n`))
