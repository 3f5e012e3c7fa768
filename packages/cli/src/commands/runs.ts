/**
 * `refine-af runs [--runs-dir D]`: every run folder under the runs folder, newest first — its
 * status (a run whose process is gone shows `interrupted`, as `inspect` shows it), recipe, when
 * it started, how long it took, its stages done of all and its cache hits. A folder that is not a
 * run (no readable manifest) is listed as such, not skipped silently.
 */
import { Console, Effect, Result } from "effect"
import { Command, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as path from "node:path"
import { formatDuration, readRunManifest, type RunManifest } from "@refine-af/core"
import { withLiveCounts } from "./inspect.ts"
import { cliCommand } from "../invocation.ts"

/** One row of the listing. */
export interface RunRow {
  readonly dir: string
  readonly manifest?: RunManifest
  readonly problem?: string
}

/** The run folders of `runsDir` with their manifests (live status), newest first. */
export const listRuns = (runsDir: string): Array<RunRow> => {
  let names: Array<string> = []
  try {
    names = fs.readdirSync(runsDir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)
  } catch {
    return []
  }
  const rows = names.map((name): RunRow => {
    const dir = path.join(runsDir, name)
    const read = Effect.runSync(Effect.result(readRunManifest(dir)))
    return Result.isSuccess(read) ? { dir, manifest: withLiveCounts(dir, read.success) } : { dir, problem: "no readable manifest.json (not a run folder, or one whose start was cut short)" }
  })
  const started = (row: RunRow) => (row.manifest === undefined ? 0 : Date.parse(row.manifest.startedAt))
  return rows.sort((a, b) => started(b) - started(a) || (a.dir < b.dir ? -1 : 1))
}

/** The listing as a table (one line per run). */
export const formatRuns = (runsDir: string, rows: ReadonlyArray<RunRow>): string => {
  if (rows.length === 0) return `${runsDir}: no runs (start one with: ${cliCommand()} run <recipe>)`
  const cells = rows.map((row) => {
    const m = row.manifest
    if (m === undefined) return [path.basename(row.dir), "?", "", "", "", "", row.problem ?? ""]
    const stages = Object.values(m.stages)
    const done = stages.filter((stage) => stage.status === "completed" || stage.status === "cached").length
    const hits = stages.filter((stage) => stage.status === "cached").length
    const end = m.endedAt === undefined ? (m.status === "running" ? Date.now() : undefined) : Date.parse(m.endedAt)
    return [
      path.basename(row.dir),
      m.status,
      m.name,
      m.startedAt.replace("T", " ").slice(0, 16),
      end === undefined ? "" : formatDuration((end - Date.parse(m.startedAt)) / 1000),
      `${done}/${stages.length}`,
      hits === 0 ? "" : `${hits} cached`
    ]
  })
  const header = ["run", "status", "recipe", "started (UTC)", "took", "stages", ""]
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)))
  const line = (row: ReadonlyArray<string>) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()
  return [line(header), ...cells.map(line), "", `details: ${cliCommand()} inspect ${path.join(runsDir, "<run>")}; unfinished ones: ${cliCommand()} resume ${path.join(runsDir, "<run>")}`].join("\n")
}

/** `refine-af runs`. */
export const runsCommand = Command.make(
  "runs",
  { runsDir: Flag.String("runs-dir").pipe(Flag.withDescription("Parent folder of run directories"), Flag.withDefault("runs")) },
  Effect.fnUntraced(function*({ runsDir }) {
    yield* Console.log(formatRuns(runsDir, listRuns(runsDir)))
  })
).pipe(Command.withDescription("List the runs in the runs folder, newest first: status, recipe, start, duration, stages done, cache hits"))
