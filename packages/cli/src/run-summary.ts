/** The text shown after `run`/`resume` and by `inspect`. */
import { resourceRows, resourceTableHeader, stageRows, stageTableHeader, textTable, type RunManifest } from "@refine-af/core"

/** A short header plus the stage table. */
export const printRunSummary = (runDir: string, manifest: RunManifest): string => {
  const stages = Object.values(manifest.stages)
  const cacheHits = stages.filter((stage) => stage.status === "cached").length
  const lines = [
    `run ${manifest.runId}: ${manifest.status}`,
    `  dir: ${runDir}`,
    `  recipe: ${manifest.name} (${manifest.recipeFile}), seed ${manifest.seed}`,
    `  started ${manifest.startedAt}${manifest.endedAt ? `, ended ${manifest.endedAt}` : ""}; attempts: ${manifest.attempts.length}; cache hits: ${cacheHits}/${stages.length}`,
    ...(manifest.error ? [`  error: ${manifest.error}`] : []),
    "",
    textTable(stageTableHeader, stageRows(manifest)),
    ...(resourceRows(manifest).length === 0 ? [] : ["", textTable(resourceTableHeader, resourceRows(manifest))])
  ]
  if (manifest.status === "interrupted" || manifest.status === "failed") lines.push("", `continue with: refine-af resume ${runDir}`)
  return lines.join("\n")
}
