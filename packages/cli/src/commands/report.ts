/**
 * `refine-af report <run-dir>`: (re)writes the run report — `report.md`, `report.html`,
 * `report.json` in the run folder — for any run, finished, failed or interrupted. Runs and
 * resumes write it themselves at the end; this is for a killed run or an older run folder.
 */
import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { ioError, readRunManifest, writeRunReport } from "@refine-af/core"
import { shownPath } from "../run-outputs.ts"
import { withLiveCounts } from "./inspect.ts"

/** `refine-af report`. */
export const reportCommand = Command.make(
  "report",
  {
    runDir: Argument.String("run-dir").pipe(Argument.withDescription("Run directory, e.g. runs/quickstart-20260124-101500-a3f9"))
  },
  Effect.fnUntraced(function*({ runDir }) {
    const manifest = withLiveCounts(runDir, yield* readRunManifest(runDir))
    const written = yield* Effect.try({ try: () => writeRunReport(runDir, manifest), catch: ioError(runDir) })
    yield* Console.log([
      `report of ${manifest.runId} (${manifest.status}) written:`,
      `  ${shownPath(written.html)}`,
      `  ${shownPath(written.markdown)}`,
      `  ${shownPath(written.json)}`,
      ...(written.report.problems.length === 0 ? [] : [`  ${written.report.problems.length} problem(s) reading the run folder are listed in the report`])
    ].join("\n"))
  })
).pipe(
  Command.withDescription("Write a run's report (report.html, report.md, report.json) into its folder"),
  Command.withExamples([
    { command: "refine-af report runs/quickstart-20260124-101500-a3f9", description: "Rewrite the report of a run (e.g. one killed with kill -9)" }
  ])
)
