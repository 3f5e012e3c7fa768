/**
 * `pullModel`: downloads a Hugging Face model repository (every file of a
 * revision) into a folder, resumably, verifying each file's size and hash
 * (SHA-256 for LFS files, the git blob id otherwise) against the Hub's
 * listing. The listing comes from `@huggingface/hub`; files stream from the
 * Hub's `resolve` endpoint with Range requests so an interrupted pull
 * continues where it stopped. `HF_TOKEN` authorises gated and private
 * repositories; `HF_ENDPOINT` points at a mirror.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { pullModel } from "@refine-af/models"
 * const result = await Effect.runPromise(pullModel({ repo: "HuggingFaceTB/SmolLM2-135M", dir: "models/smollm2" }))
 * result.dir // "models/smollm2"
 * ```
 */
import * as nodePath from "node:path"
import { HubApiError, listFiles } from "@huggingface/hub"
import { Effect } from "effect"
import { expectedDigest, type HubFile } from "./digest.ts"
import { ensureRoom, freeBytes } from "./disk.ts"
import { downloadVerified, reach, statusError } from "./download-file.ts"
import { HubDownloadFailed, type PullError } from "./errors.ts"
import { alreadyPulled, readPullRecord, safeRelativePath, writePullRecord } from "./pull-state.ts"
import { asPullError, hubEndpoint, hubToken } from "./settings.ts"

/** Options of {@link pullModel}. */
export interface PullModelOptions {
  /** `owner/name`. */
  readonly repo: string
  /** Branch, tag or commit (default `main`). */
  readonly revision?: string
  /** Target folder (default: `$REFINE_AF_MODELS` or `.refine-af/models`, then `owner--name`). */
  readonly dir?: string
  /** Hub base URL (default `$HF_ENDPOINT`, else https://huggingface.co). */
  readonly endpoint?: string
  /** Access token (default `$HF_TOKEN`). */
  readonly token?: string
  /** Automatic resumes per file after a broken connection or a corrupt file (default 2). */
  readonly retries?: number
  readonly fetch?: typeof fetch
  /** Free-space probe (tests replace it). */
  readonly freeBytes?: (dir: string) => Promise<number>
  /** Progress events. */
  readonly onEvent?: (event: PullEvent) => void
}

/** What a pull reports as it goes. */
export type PullEvent =
  | { readonly type: "listed"; readonly files: number; readonly bytes: number; readonly toDownload: number }
  | { readonly type: "file"; readonly path: string; readonly status: "skipped" | "downloaded"; readonly bytes: number; readonly resumedFrom: number }

/** The outcome of a pull. */
export interface PullResult {
  readonly dir: string
  readonly files: number
  readonly downloaded: number
  readonly skipped: number
  readonly bytes: number
}

/** The default folder of a repository. */
export const defaultModelDir = (repo: string, revision: string): string => {
  const root = process.env["REFINE_AF_MODELS"] ? nodePath.resolve(process.env["REFINE_AF_MODELS"]) : nodePath.resolve(".refine-af", "models")
  return nodePath.join(root, `${repo.replace("/", "--")}${revision === "main" ? "" : `@${revision.replace(/[\\/]/g, "_")}`}`)
}

const listRepo = async (repo: string, revision: string, endpoint: string, token: string | undefined, fetchFn: typeof fetch): Promise<Array<HubFile>> => {
  const files: Array<HubFile> = []
  try {
    for await (const entry of listFiles({
      repo: { type: "model", name: repo },
      revision,
      recursive: true,
      hubUrl: endpoint,
      ...(token === undefined ? {} : { accessToken: token }),
      fetch: ((url: string, init: RequestInit) => reach(fetchFn, url, init)) as typeof fetch
    })) {
      if (entry.type === "file") files.push({ path: entry.path, size: entry.size, oid: entry.oid, lfs: entry.lfs })
    }
  } catch (error) {
    if (error instanceof HubApiError) throw statusError(error.url, error.statusCode, repo)
    throw error
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** Pulls a model repository (see the module doc). */
export const pullModel = (options: PullModelOptions): Effect.Effect<PullResult, PullError> =>
  Effect.tryPromise({
    try: async () => {
      const revision = options.revision ?? "main"
      const endpoint = hubEndpoint(options.endpoint)
      const token = hubToken(options.token)
      const fetchFn = options.fetch ?? fetch
      const dir = nodePath.resolve(options.dir ?? defaultModelDir(options.repo, revision))
      const files = await listRepo(options.repo, revision, endpoint, token, fetchFn)
      const unsafe = files.find((f) => !safeRelativePath(f.path))
      if (unsafe) throw new HubDownloadFailed({ url: endpoint, message: `the listing names a file outside the repository folder: ${unsafe.path}`, fix: "Check HF_ENDPOINT: the server is not behaving like the Hugging Face Hub." })
      const record = await readPullRecord(dir, `${endpoint}/${options.repo}`, revision)
      const todo: Array<HubFile> = []
      for (const file of files) {
        const want = expectedDigest(file)
        if (!(await alreadyPulled(record, dir, file.path, want.size, want.hex))) todo.push(file)
      }
      const bytes = files.reduce((n, f) => n + expectedDigest(f).size, 0)
      const needed = todo.reduce((n, f) => n + expectedDigest(f).size, 0)
      options.onEvent?.({ type: "listed", files: files.length, bytes, toDownload: needed })
      await ensureRoom(dir, needed, options.freeBytes ?? freeBytes)
      const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` }
      for (const file of files) {
        if (!todo.includes(file)) {
          options.onEvent?.({ type: "file", path: file.path, status: "skipped", bytes: expectedDigest(file).size, resumedFrom: 0 })
          continue
        }
        const want = expectedDigest(file)
        const url = `${endpoint}/${options.repo}/resolve/${encodeURIComponent(revision)}/${file.path.split("/").map(encodeURIComponent).join("/")}`
        const done = await downloadVerified({
          url, path: nodePath.join(dir, file.path), size: want.size, digest: want, headers, retries: options.retries ?? 2, repo: options.repo, fetch: fetchFn
        })
        record.files[file.path] = { size: done.bytes, kind: want.kind, hex: done.hex }
        await writePullRecord(dir, record)
        options.onEvent?.({ type: "file", path: file.path, status: "downloaded", bytes: done.bytes, resumedFrom: done.resumedFrom })
      }
      await writePullRecord(dir, record)
      return { dir, files: files.length, downloaded: todo.length, skipped: files.length - todo.length, bytes }
    },
    catch: asPullError
  })
