/**
 * The pull record kept in a target folder (`.refine-af-pull.json`): which
 * files were downloaded and verified, with their size and hash, so a second
 * pull skips them without re-reading, and so a folder says where it came from.
 */
import { readFileSync } from "node:fs"
import { readFile, rename, stat, writeFile } from "node:fs/promises"
import * as nodePath from "node:path"

/** The record's file name. */
export const PULL_RECORD = ".refine-af-pull.json"

/** One verified file. */
export interface PulledFile {
  readonly size: number
  readonly kind: "sha256" | "git-sha1"
  readonly hex: string
}

/** The whole record. */
export interface PullRecord {
  readonly source: string
  readonly revision: string
  readonly files: Record<string, PulledFile>
}

/** Reads the record of `dir` (an empty one if absent or unreadable). */
export const readPullRecord = async (dir: string, source: string, revision: string): Promise<PullRecord> => {
  try {
    const record = JSON.parse(await readFile(nodePath.join(dir, PULL_RECORD), "utf8")) as PullRecord
    if (record.source === source && record.revision === revision && typeof record.files === "object") return record
  } catch {
    // no record yet
  }
  return { source, revision, files: {} }
}

/** Writes the record atomically. */
export const writePullRecord = async (dir: string, record: PullRecord): Promise<void> => {
  const file = nodePath.join(dir, PULL_RECORD)
  await writeFile(`${file}.tmp`, JSON.stringify(record, null, 1) + "\n")
  await rename(`${file}.tmp`, file)
}

/** True when `path` is recorded with this size and hash and is still that size on disk. */
export const alreadyPulled = async (record: PullRecord, dir: string, path: string, size: number | undefined, hex: string | undefined): Promise<boolean> => {
  const entry = record.files[path]
  if (entry === undefined || (size !== undefined && entry.size !== size) || (hex !== undefined && entry.hex !== hex.toLowerCase())) return false
  try {
    return (await stat(nodePath.join(dir, path))).size === entry.size
  } catch {
    return false
  }
}

/** A listed path that stays inside the target folder (no absolute path, no `..`). */
export const safeRelativePath = (path: string): boolean =>
  path !== "" && !nodePath.isAbsolute(path) && !path.split(/[\\/]/).some((part) => part === ".." || part === "")

/**
 * The Hub repository (`owner/name`) and revision that `models pull` fetched into `dir`, from its pull
 * record; undefined for a folder without one (written by hand, by our tools, or copied without it).
 * What PEFT and transformers take as `base_model_name_or_path` for a model that came from the Hub.
 */
export const pulledFrom = (dir: string): { readonly repo: string; readonly revision: string } | undefined => {
  try {
    const record = JSON.parse(readFileSync(nodePath.join(dir, PULL_RECORD), "utf8")) as Partial<PullRecord>
    if (typeof record.source !== "string" || typeof record.revision !== "string") return undefined
    // The source is `<endpoint>/<owner>/<name>`; the endpoint may itself have a path (a mirror).
    const parts = record.source.replace(/\/+$/, "").split("/")
    const repo = parts.slice(-2).join("/")
    return parts.length >= 2 && /^[\w.-]+\/[\w.-]+$/.test(repo) ? { repo, revision: record.revision } : undefined
  } catch {
    return undefined
  }
}
