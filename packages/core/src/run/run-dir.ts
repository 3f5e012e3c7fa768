/**
 * Run directories: `runs/<name>-<yyyymmdd-hhmmss>-<rand>/` holding the
 * resolved recipe (`recipe.yaml`), the original recipe text
 * (`recipe.original.yaml`), `manifest.json`, `events.jsonl`, `stages/<stage>/`,
 * `state/<stage>/` (trainer checkpoints, see `StageContext.stateDir`) and the
 * run report (`report.md`, `report.html`, `report.json`; see `../report/`).
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { stringify } from "yaml"
import type { ResolvedRecipe } from "../recipe/resolved.ts"
import type { JsonRecord } from "../stage/context.ts"

/** Names of the files a run directory holds. */
export const runFiles = {
  recipe: "recipe.yaml",
  originalRecipe: "recipe.original.yaml",
  events: "events.jsonl",
  report: "report.md",
  reportHtml: "report.html",
  reportJson: "report.json",
  stages: "stages",
  state: "state"
} as const

/** Folder of one stage inside a run directory. */
export const stageDirOf = (runDir: string, stage: string): string => path.join(runDir, runFiles.stages, stage)

/**
 * Trainer state folder of one stage (`<run>/state/<stage>/`): kept across
 * `resume`, outside the stage folder, so neither hashed nor cached.
 */
export const stateDirOf = (runDir: string, stage: string): string => path.join(runDir, runFiles.state, stage)

const pad = (value: number) => String(value).padStart(2, "0")

/** `<name>-<yyyymmdd-hhmmss>-<4 hex>` in UTC, e.g. `quickstart-20260124-101500-a3f9`. */
export const newRunId = (name: string, now = new Date()): string => {
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-` +
    `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`
  const safeName = name.replace(/[^A-Za-z0-9._-]+/g, "-")
  return `${safeName}-${stamp}-${randomBytes(2).toString("hex")}`
}

/**
 * The recipe document as written to the run directory: relative plugin paths
 * become absolute so that `resume` can load it from the run directory.
 */
export const portableDocument = (recipe: ResolvedRecipe): JsonRecord => {
  const plugins = recipe.document["plugins"]
  if (!Array.isArray(plugins)) return recipe.document
  const recipeDir = path.dirname(recipe.file)
  return {
    ...recipe.document,
    plugins: plugins.map((specifier) =>
      typeof specifier === "string" && (specifier.startsWith("./") || specifier.startsWith("../"))
        ? path.resolve(recipeDir, specifier)
        : specifier
    )
  }
}

/** The text of a run's `recipe.yaml`: the resolved recipe (overrides applied) with a header. */
export const runRecipeText = (runId: string, recipe: ResolvedRecipe): string =>
  `# Resolved recipe of run ${runId} (overrides applied). Source: ${recipe.file}\n` + stringify(portableDocument(recipe))

/** Creates the run directory and writes the recipe files into it. */
export const createRunDir = (runsDir: string, runId: string, recipe: ResolvedRecipe): string => {
  const runDir = path.resolve(runsDir, runId)
  fs.mkdirSync(path.join(runDir, runFiles.stages), { recursive: true })
  fs.writeFileSync(path.join(runDir, runFiles.recipe), runRecipeText(runId, recipe))
  try {
    fs.copyFileSync(recipe.file, path.join(runDir, runFiles.originalRecipe))
  } catch {
    // A recipe built in memory (tests, API users) has no source file to keep.
  }
  return runDir
}
