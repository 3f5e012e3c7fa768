/**
 * One file, downloaded resumably and verified: bytes stream into
 * `<path>.part` (appending after what an earlier, interrupted attempt left,
 * with an HTTP Range request), the size and hash are checked against the
 * Hub's listing, and only then is the file renamed into place. A corrupt
 * download is deleted; an interrupted one is kept for the next attempt.
 *
 * @example
 * ```ts
 * import { downloadVerified } from "./download-file.ts"
 * await downloadVerified({ url: "https://huggingface.co/gpt2/resolve/main/config.json", path: "gpt2/config.json",
 *   size: 665, digest: { kind: "git-sha1", hex: undefined }, headers: {}, retries: 2 })
 * ```
 */
import { mkdir, open, rename, rm, stat } from "node:fs/promises"
import * as nodePath from "node:path"
import { hashExisting, makeDigest } from "./digest.ts"
import { DownloadCorrupt, HubAccessDenied, HubDownloadFailed, HubNotFound, HubUnreachable, PullWriteFailed } from "./errors.ts"

/** What to download and how to check it. */
export interface DownloadRequest {
  readonly url: string
  readonly path: string
  /** Expected size in bytes (undefined: unknown, take the server's). */
  readonly size: number | undefined
  readonly digest: { readonly kind: "sha256" | "git-sha1"; readonly hex: string | undefined }
  readonly headers: Readonly<Record<string, string>>
  /** Extra attempts after an interruption or a corrupt download (each resumes or restarts). */
  readonly retries: number
  /** For access errors: the repository name to mention. */
  readonly repo?: string
  /** How to point the download at another server, for "cannot reach" (default: HF_ENDPOINT, the Hub's). */
  readonly mirrorHint?: string
  readonly fetch?: typeof fetch
  /** Called with (bytes so far, total) as data arrives. */
  readonly onProgress?: (done: number, total: number | undefined) => void
}

/** What happened to the file. */
export interface DownloadResult {
  readonly path: string
  readonly bytes: number
  readonly hex: string
  /** Bytes that were already on disk from an earlier attempt. */
  readonly resumedFrom: number
}

const sizeOf = async (path: string): Promise<number> => {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}

/** Maps an HTTP status that is not 200/206 to the right error. */
export const statusError = (url: string, status: number, repo: string | undefined) => {
  if (status === 401 || status === 403) {
    return new HubAccessDenied({
      repo: repo ?? url,
      status,
      message: `access to ${repo ?? url} was refused (HTTP ${status}): the repository is gated or private, or the token is not valid for it`,
      fix: `Accept the model's licence on its Hugging Face page while logged in, create a read token at https://huggingface.co/settings/tokens, and run again with HF_TOKEN=<token>.`
    })
  }
  if (status === 404) {
    return new HubNotFound({ url, message: `not found (HTTP 404): ${url}`, fix: "Check the repository name (owner/name), the --revision (branch, tag or commit) and, for a private repository, HF_TOKEN." })
  }
  return new HubDownloadFailed({ url, message: `the server answered HTTP ${status} for ${url}`, fix: "Try again later; if it persists, check HF_ENDPOINT and your network." })
}

/** A fetch that turns a network failure into `HubUnreachable`. */
export const reach = async (fetchFn: typeof fetch, url: string, init: RequestInit, mirrorHint = "set HF_ENDPOINT to a reachable mirror"): Promise<Response> => {
  try {
    return await fetchFn(url, { ...init, redirect: "follow" })
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : String(error)
    throw new HubUnreachable({
      url,
      message: `cannot reach ${new URL(url).origin} (${cause})`,
      fix: `Check your network connection (or ${mirrorHint}). Files already downloaded are kept; run the same command again to resume.`
    })
  }
}

const attempt = async (request: DownloadRequest, fetchFn: typeof fetch): Promise<DownloadResult> => {
  const part = `${request.path}.part`
  let have = await sizeOf(part)
  if (request.size !== undefined && have > request.size) {
    await rm(part, { force: true })
    have = 0
  }
  const response = await reach(fetchFn, request.url, { headers: { ...request.headers, ...(have > 0 ? { Range: `bytes=${have}-` } : {}) } }, request.mirrorHint)
  if (response.status === 416) {
    // Our partial file does not match the server's file: start over.
    await response.body?.cancel()
    await rm(part, { force: true })
    return attempt(request, fetchFn)
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel()
    throw statusError(request.url, response.status, request.repo)
  }
  if (response.status === 200 && have > 0) have = 0 // the server ignored the range: rewrite from the start
  const total = request.size ?? (response.headers.get("content-length") === null ? undefined : have + Number(response.headers.get("content-length")))
  const digest = makeDigest(request.digest.kind, total ?? 0)
  const resumedFrom = have
  if (have > 0) await hashExisting(part, digest.update)
  const handle = await open(part, have > 0 ? "a" : "w").catch((error: Error) => {
    throw new PullWriteFailed({ path: part, message: `cannot write ${part} (${error.message})`, fix: "Make the target folder writable, or choose another with --dir." })
  })
  try {
    if (response.body === null) throw new Error("empty response body")
    for await (const chunk of response.body) {
      await handle.write(chunk)
      digest.update(chunk)
      have += chunk.byteLength
      request.onProgress?.(have, total)
    }
  } catch (error) {
    if (error instanceof PullWriteFailed) throw error
    throw new HubDownloadFailed({
      url: request.url,
      message: `the download of ${nodePath.basename(request.path)} broke off after ${have} of ${total ?? "?"} bytes (${error instanceof Error ? error.message : String(error)})`,
      fix: "Run the same command again: it resumes from the partial file."
    })
  } finally {
    await handle.close()
  }
  if (total !== undefined && have < total) {
    throw new HubDownloadFailed({ url: request.url, message: `the download of ${nodePath.basename(request.path)} ended early: ${have} of ${total} bytes`, fix: "Run the same command again: it resumes from the partial file." })
  }
  const hex = digest.hex()
  const wrongSize = total !== undefined && have !== total
  if (wrongSize || (request.digest.hex !== undefined && hex !== request.digest.hex.toLowerCase())) {
    await rm(part, { force: true })
    throw new DownloadCorrupt({
      path: request.path,
      message: wrongSize
        ? `${request.path} has ${have} bytes, the Hub lists ${total}`
        : `${request.path} is corrupt: its ${request.digest.kind} is ${hex}, the Hub lists ${request.digest.hex}`,
      fix: "The bad file was deleted; run the same command again to download it afresh. If it keeps failing, the mirror (HF_ENDPOINT) or a proxy is altering files."
    })
  }
  await rename(part, request.path)
  return { path: request.path, bytes: have, hex, resumedFrom }
}

/** Downloads and verifies one file, resuming or retrying up to `retries` times. */
export const downloadVerified = async (request: DownloadRequest): Promise<DownloadResult> => {
  const fetchFn = request.fetch ?? fetch
  await mkdir(nodePath.dirname(request.path), { recursive: true }).catch((error: Error) => {
    throw new PullWriteFailed({ path: request.path, message: `cannot create ${nodePath.dirname(request.path)} (${error.message})`, fix: "Make the target folder writable, or choose another with --dir." })
  })
  for (let tries = 0; ; tries++) {
    try {
      return await attempt(request, fetchFn)
    } catch (error) {
      const retryable = error instanceof HubDownloadFailed || error instanceof DownloadCorrupt
      if (!retryable || tries >= request.retries) throw error
    }
  }
}
