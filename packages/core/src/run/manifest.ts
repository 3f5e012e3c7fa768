/**
 * `manifest.json` of a run directory: what ran, with which versions and seed,
 * the status and cache key / output hash of every stage, and final metrics.
 * Rewritten atomically at every status change, so it is always readable.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { ResolvedRecipe } from "../recipe/resolved.ts"
import type { JsonRecord } from "../stage/context.ts"
import { writeFileAtomic } from "./fs-atomic.ts"
import { manifestShapeProblem } from "./manifest-schema.ts"

/** Status of one stage in a run. `cached` = restored from the content-addressed cache. */
export type StageStatus = "pending" | "running" | "completed" | "cached" | "failed" | "interrupted"

/** Status of the whole run. */
export type RunStatus = "running" | "completed" | "failed" | "interrupted"

/** One stage's entry in the manifest. */
export interface StageManifest {
  status: StageStatus
  componentId: string
  version: string
  /** Empty while the stage is pending (its key depends on upstream outputs). */
  cacheKey: string
  /** Its DAG edges: input port → upstream stage, a list port → its stages in order (absent: no ports). */
  inputs?: Record<string, string | Array<string>>
  /** Its resource edges: slot → resource (absent: no slots). */
  uses?: Record<string, string>
  outputHash?: string
  records?: number
  startedAt?: string
  endedAt?: string
  durationMs?: number
  metrics?: Record<string, number>
  /** The stage's own summary data (`StageSummary.data`). */
  data?: JsonRecord
  error?: string
}

/** One resource's entry in the manifest: a node of the run's DAG. */
export interface ResourceManifest {
  componentId: string
  /** Stages the resource is built from (input ports). */
  builtFrom?: Array<string>
  /** Resources it uses (slots). */
  uses?: Array<string>
  /** True once made in the latest attempt (a run served from cache makes none). */
  made?: boolean
  /** Its identity when made (part of the cache key of the stages using it). */
  identity?: string
}

/** One start of the run (the first run, then each resume). */
export interface RunAttempt {
  startedAt: string
  endedAt?: string
  status: RunStatus
}

/** The whole `manifest.json`. */
export interface RunManifest {
  formatVersion: 1
  runId: string
  name: string
  recipeFile: string
  /** Absolute folder of the original recipe: relative paths in options resolve from it, on resume too. */
  recipeDir?: string
  status: RunStatus
  seed: number
  core: { readonly name: string; readonly version: string }
  plugins: Array<{ readonly name: string; readonly specifier: string; readonly packageName: string; readonly packageVersion: string }>
  node: string
  hostname: string
  platform: string
  gitCommit?: string
  cacheDir: string
  cacheEnabled: boolean
  startedAt: string
  endedAt?: string
  attempts: Array<RunAttempt>
  stages: Record<string, StageManifest>
  /** Resources of the recipe (absent in manifests written before resources were recorded). */
  resources?: Record<string, ResourceManifest>
  metrics: Record<string, Record<string, number>>
  error?: string
}

/** File name of the manifest inside a run directory. */
export const manifestFileName = "manifest.json"

const corePackage = (): { name: string; version: string } => {
  try {
    const text = fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")
    const parsed = JSON.parse(text) as { name: string; version: string }
    return { name: parsed.name, version: parsed.version }
  } catch {
    return { name: "@refine-af/core", version: "unknown" }
  }
}

/** The git commit of the repository around `cwd`, if any (undefined outside git). */
export const gitCommit = (cwd: string): string | undefined => {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"], timeout: 5000 })
      .toString()
      .trim() || undefined
  } catch {
    return undefined
  }
}

const optionalGitCommit = (): { gitCommit?: string } => {
  const commit = gitCommit(process.cwd())
  return commit === undefined ? {} : { gitCommit: commit }
}

/** A new manifest for a run that is starting. */
export const newManifest = (
  recipe: ResolvedRecipe,
  runId: string,
  options: { readonly cacheDir: string; readonly cacheEnabled: boolean }
): RunManifest => {
  const now = new Date().toISOString()
  return {
    formatVersion: 1,
    runId,
    name: recipe.name,
    recipeFile: recipe.file,
    recipeDir: recipe.recipeDir ?? path.dirname(recipe.file),
    status: "running",
    seed: recipe.seed,
    core: corePackage(),
    plugins: recipe.plugins.map((plugin) => ({
      name: plugin.manifest.name,
      specifier: plugin.specifier,
      packageName: plugin.packageName,
      packageVersion: plugin.packageVersion
    })),
    node: process.version,
    hostname: os.hostname(),
    platform: `${process.platform}-${process.arch}`,
    ...optionalGitCommit(),
    cacheDir: options.cacheDir,
    cacheEnabled: options.cacheEnabled,
    startedAt: now,
    attempts: [{ startedAt: now, status: "running" }],
    stages: {},
    metrics: {}
  }
}

/**
 * Atomically writes the manifest. Not fsynced: the fsynced commit markers of
 * the record streams are the durable truth, and a manifest that lags behind
 * after a power loss only makes `resume` continue (not redo) a finished stage.
 */
export const writeManifest = (runDir: string, manifest: RunManifest): void =>
  writeFileAtomic(path.join(runDir, manifestFileName), `${JSON.stringify(manifest, null, 2)}\n`, { sync: false })

/** `manifest.json` exists and is JSON but does not have a manifest's shape (hand-edited, damaged). */
export class ManifestShapeError extends Error {}

/**
 * Reads a run's manifest and checks its shape against `RunManifestSchema`; throws when absent,
 * unparsable or wrongly shaped (`ManifestShapeError`; callers turn that into `RunDirInvalid`).
 */
export const readManifestFile = (runDir: string): RunManifest => {
  const file = path.join(runDir, manifestFileName)
  const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"))
  const problem = manifestShapeProblem(parsed)
  if (problem !== undefined) throw new ManifestShapeError(`${file} is not a valid run manifest: ${problem}`)
  return parsed as RunManifest
}
