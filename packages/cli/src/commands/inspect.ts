/**
 * `refine-af inspect <run-dir>`: what a run did — status, stages, records,
 * cache hits, durations, metrics (`--json` for the raw manifest).
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { liveRunHolder, readCommitMarker, readRunManifest, stageDirOf, type RunManifest } from "@refine-af/core"
import { printRunSummary, wideFlag } from "../run-summary.ts"

/**
 * The manifest with live record counts for stages that did not finish (the manifest may lag
 * behind), and a run whose manifest says `running` but whose process is gone (killed: no live
 * process holds its lock) shown as `interrupted`, as are its running stages.
 */
export const withLiveCounts = (runDir: string, manifest: RunManifest): RunManifest => {
  const killed = manifest.status === "running" && liveRunHolder(runDir) === undefined
  const stages = { ...manifest.stages }
  if (killed) {
    for (const [name, stage] of Object.entries(stages)) if (stage.status === "running") stages[name] = { ...stage, status: "interrupted" }
  }
  for (const [name, stage] of Object.entries(stages)) {
    // A stage that never started has no records to count (shown "-", as the run's own report shows it).
    if (stage.status === "completed" || stage.status === "cached" || stage.status === "pending") continue
    const marker = readCommitMarker(stageDirOf(runDir, name))
    if (!(marker instanceof Error)) stages[name] = { ...stage, records: marker.count }
  }
  return killed ? { ...manifest, status: "interrupted", stages } : { ...manifest, stages }
}

/** `refine-af inspect`. */
export const inspectCommand = Command.make(
  "inspect",
  {
    runDir: Argument.String("run-dir").pipe(Argument.withDescription("Run directory to describe")),
    wide: wideFlag,
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print the manifest as JSON"), Flag.withDefault(false))
  },
  Effect.fnUntraced(function*({ runDir, json, wide }) {
    const manifest = withLiveCounts(runDir, yield* readRunManifest(runDir))
    yield* Console.log(json ? JSON.stringify(manifest, null, 2) : printRunSummary(runDir, manifest, { wide }))
  })
).pipe(Command.withDescription("Show a run's stages, status, records, cache hits, durations and metrics"))
