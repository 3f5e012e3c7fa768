/**
 * Writes report artifacts (Markdown, HTML, JSON) into a folder.
 */
import { mkdir, writeFile } from "node:fs/promises"
import * as path from "node:path"
import { Effect } from "effect"
import { ReportWriteFailed } from "../errors.ts"

/** Writes each `fileName → content` under `dir`, creating `dir` when needed. */
export const writeArtifacts = (dir: string, files: Readonly<Record<string, string>>) =>
  Effect.tryPromise({
    try: async () => {
      await mkdir(dir, { recursive: true })
      for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content, "utf8")
    },
    catch: (error) =>
      new ReportWriteFailed({
        path: dir,
        message: `cannot write the report: ${(error as Error).message}`,
        fix: "Check that the output folder is writable and the disk is not full."
      })
  })
