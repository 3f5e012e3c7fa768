/** The text shown after `run`/`resume` and by `inspect`. */
import { resourceRows, resourceTableHeader, stageRows, stageTableHeader, textTable, type RunManifest } from "@refine-af/core"
import { Flag } from "effect/cli"
import { runOutputs } from "./run-outputs.ts"
import { cliCommand } from "./invocation.ts"

/** `--wide`: do not wrap the summary to 100 columns. */
export const wideFlag = Flag.Boolean("wide").pipe(Flag.withDescription("Do not wrap the summary to 100 columns"), Flag.withDefault(false))

/** Width the summary fits in unless `wide` is asked for. */
export const summaryWidth = 100

/** Splits `text` at spaces into pieces of at most `width` characters (a longer word stays whole). */
const wrapWords = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  for (const word of text.split(" ")) {
    const last = lines.at(-1)
    if (last !== undefined && last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`
    else lines.push(word)
  }
  return lines.length === 0 ? [""] : lines
}

/** The stage table, its last (metrics) column wrapped onto continuation rows to fit `width`. */
const stageTable = (manifest: RunManifest, width: number | undefined): string => {
  const rows = stageRows(manifest)
  if (width === undefined) return textTable(stageTableHeader, rows)
  const fixed = stageTableHeader.slice(0, -1).map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)))
  const room = Math.max(24, width - fixed.reduce((sum, w) => sum + w + 2, 0))
  const wrapped = rows.flatMap((row) => {
    const pieces = wrapWords(row.at(-1) ?? "", room)
    return pieces.map((piece, index) => index === 0 ? [...row.slice(0, -1), piece] : [...row.slice(0, -1).map(() => ""), piece])
  })
  return textTable(stageTableHeader, wrapped)
}

const wrapLine = (line: string, width: number | undefined): string =>
  width === undefined || line.length <= width ? line : wrapWords(line, width - 4).map((piece, index) => (index === 0 ? piece : `    ${piece}`)).join("\n")

/**
 * A short header, the stage table, and where the datasets, adapters and reports are. Fits in
 * 100 columns (long metrics wrap onto continuation rows) unless `wide` is set.
 */
export const printRunSummary = (runDir: string, manifest: RunManifest, options: { readonly wide?: boolean } = {}): string => {
  const width = options.wide === true ? undefined : summaryWidth
  const stages = Object.values(manifest.stages)
  const cacheHits = stages.filter((stage) => stage.status === "cached").length
  const outputs = runOutputs(runDir, manifest)
  const wrapped = (texts: ReadonlyArray<string>) => texts.flatMap((line) => wrapLine(line, width).split("\n"))
  // Tables are laid out whole (the stage table wraps its metrics column itself); wrapping
  // their rows again as prose would break the columns apart.
  const lines = [
    ...wrapped([
      `run ${manifest.runId}: ${manifest.status}`,
      `  dir: ${runDir}`,
      `  recipe: ${manifest.name} (${manifest.recipeFile}), seed ${manifest.seed}`,
      `  started ${manifest.startedAt}${manifest.endedAt ? `, ended ${manifest.endedAt}` : ""}; attempts: ${manifest.attempts.length}; cache hits: ${cacheHits}/${stages.length}`,
      ...(manifest.error ? [`  error: ${manifest.error}`] : [])
    ]),
    "",
    ...stageTable(manifest, width).split("\n"),
    ...(resourceRows(manifest).length === 0 ? [] : ["", ...textTable(resourceTableHeader, resourceRows(manifest)).split("\n")]),
    ...(outputs.length === 0 ? [] : ["", "outputs:", ...wrapped(outputs.map((output) => `  ${output.kind}${output.stage !== undefined ? ` (${output.stage})` : ""}: ${output.path}`))])
  ]
  if (manifest.status === "interrupted" || manifest.status === "failed") lines.push("", `continue with: ${cliCommand()} resume ${runDir}`)
  return lines.join("\n")
}
