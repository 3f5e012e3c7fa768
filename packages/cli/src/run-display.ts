/**
 * What `run` and `resume` show while a run goes: the progress bar or plain lines,
 * and with `--log-level debug` (or trace / all) every run event as a `debug` line.
 */
import { autoProgress, withDebugEvents, type ProgressDisplay } from "@refine-af/core"
import { Effect, LogLevel, References } from "effect"

/** The display for the current `--log-level` (read from the effect/cli global flag). */
export const runDisplay: Effect.Effect<ProgressDisplay> = Effect.gen(function*() {
  const level = yield* References.MinimumLogLevel
  const display = autoProgress()
  return LogLevel.isLessThanOrEqualTo(level, "Debug") ? withDebugEvents(display, display.message) : display
})
