/**
 * `pullSuperNi`: downloads the Super-NaturalInstructions evaluation split
 * (the split list `splits/default/test_tasks.txt` and each listed
 * `tasks/<name>.json`) from the natural-instructions repository's raw files
 * into the layout eval-superni's `readTaskDir` reads. Resumable per file;
 * each file is checked against the server's Content-Length and, for task
 * files, parsed as a task (Definition + Instances); SHA-256s are recorded in
 * `.refine-af-pull.json` so a second pull skips verified files.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { pullSuperNi } from "@refine-af/models"
 * const result = await Effect.runPromise(pullSuperNi({ dir: "data/superni" }))
 * // evaluate with tasks: data/superni/tasks, split: data/superni/splits/default/test_tasks.txt
 * ```
 */
import { readFile, rm } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { ensureRoom, freeBytes } from "./disk.ts"
import { downloadVerified } from "./download-file.ts"
import { DownloadCorrupt, HubDownloadFailed, type PullError } from "./errors.ts"
import { alreadyPulled, readPullRecord, writePullRecord } from "./pull-state.ts"
import { asPullError } from "./settings.ts"

/** Where SuperNI's raw files live (GitHub's raw file host; the repository is public). */
export const SUPERNI_BASE_URL = "https://raw.githubusercontent.com/allenai/natural-instructions"

/** Options of {@link pullSuperNi}. */
export interface PullSuperNiOptions {
  /** Target folder (default `.refine-af/data/superni`). */
  readonly dir?: string
  /** Raw-file base URL (default `$REFINE_AF_SUPERNI_URL`, else {@link SUPERNI_BASE_URL}). */
  readonly baseUrl?: string
  /** Branch, tag or commit of the repository (default `master`). */
  readonly revision?: string
  /** Split folder under `splits/` (default `default`). */
  readonly split?: string
  readonly retries?: number
  readonly fetch?: typeof fetch
  readonly freeBytes?: (dir: string) => Promise<number>
  readonly onEvent?: (event: { readonly path: string; readonly status: "skipped" | "downloaded"; readonly index: number; readonly total: number }) => void
}

/** Where the data went. */
export interface PullSuperNiResult {
  readonly dir: string
  readonly tasksDir: string
  readonly splitFile: string
  readonly tasks: number
  readonly downloaded: number
}

/** Rough upper bound of one task file, for the free-space check before downloading (SuperNI task files are up to a few MB). */
const TASK_FILE_BUDGET = 8_000_000

const checkTaskFile = async (path: string, name: string): Promise<void> => {
  let ok = false
  try {
    const parsed = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>
    ok = Array.isArray(parsed["Definition"]) && Array.isArray(parsed["Instances"])
  } catch {
    ok = false
  }
  if (!ok) {
    await rm(path, { force: true })
    throw new DownloadCorrupt({ path, message: `tasks/${name}.json is not a SuperNI task file (no Definition/Instances JSON)`, fix: "The bad file was deleted; run the same command again. If it persists, check --base-url / REFINE_AF_SUPERNI_URL." })
  }
}

/** Pulls the SuperNI evaluation split (see the module doc). */
export const pullSuperNi = (options: PullSuperNiOptions = {}): Effect.Effect<PullSuperNiResult, PullError> =>
  Effect.tryPromise({
    try: async () => {
      const base = (options.baseUrl ?? process.env["REFINE_AF_SUPERNI_URL"] ?? SUPERNI_BASE_URL).replace(/\/+$/, "")
      const revision = options.revision ?? "master"
      const split = options.split ?? "default"
      const dir = nodePath.resolve(options.dir ?? nodePath.join(".refine-af", "data", "superni"))
      const fetchFn = options.fetch ?? fetch
      const record = await readPullRecord(dir, base, revision)
      const fetchOne = async (relative: string, check?: (path: string) => Promise<void>) => {
        const path = nodePath.join(dir, relative)
        if (await alreadyPulled(record, dir, relative, undefined, undefined)) return "skipped" as const
        const done = await downloadVerified({
          url: `${base}/${encodeURIComponent(revision)}/${relative}`, path, size: undefined, digest: { kind: "sha256", hex: undefined },
          headers: {}, retries: options.retries ?? 2, fetch: fetchFn,
          mirrorHint: "pass --base-url, or set REFINE_AF_SUPERNI_URL, to a reachable copy of the natural-instructions repository's raw files"
        })
        await check?.(path)
        record.files[relative] = { size: done.bytes, kind: "sha256", hex: done.hex }
        await writePullRecord(dir, record)
        return "downloaded" as const
      }
      const splitRelative = `splits/${split}/test_tasks.txt`
      await ensureRoom(dir, 1_000_000, options.freeBytes ?? freeBytes)
      const splitStatus = await fetchOne(splitRelative)
      const names = (await readFile(nodePath.join(dir, splitRelative), "utf8")).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.replace(/\.json$/, ""))
      const bad = names.find((n) => !/^[\w.-]+$/.test(n))
      if (names.length === 0 || bad !== undefined) {
        await rm(nodePath.join(dir, splitRelative), { force: true })
        delete record.files[splitRelative]
        await writePullRecord(dir, record)
        throw new HubDownloadFailed({ url: `${base}/${revision}/${splitRelative}`, message: names.length === 0 ? "the split list is empty" : `the split list names an invalid task "${bad}"`, fix: "Check --revision and --base-url: the file is not a natural-instructions split list." })
      }
      const missing = names.filter((n) => record.files[`tasks/${n}.json`] === undefined).length
      await ensureRoom(dir, missing * TASK_FILE_BUDGET, options.freeBytes ?? freeBytes)
      let downloaded = splitStatus === "downloaded" ? 1 : 0
      for (const [index, name] of names.entries()) {
        const status = await fetchOne(`tasks/${name}.json`, (path) => checkTaskFile(path, name))
        if (status === "downloaded") downloaded++
        options.onEvent?.({ path: `tasks/${name}.json`, status, index: index + 1, total: names.length })
      }
      return { dir, tasksDir: nodePath.join(dir, "tasks"), splitFile: nodePath.join(dir, splitRelative), tasks: names.length, downloaded }
    },
    catch: asPullError
  })
