/** Hub endpoint and token from options or the environment, and the mapping of unexpected failures to typed errors. */
import { DiskTooSmall, DownloadCorrupt, HubAccessDenied, HubDownloadFailed, HubNotFound, HubUnreachable, PullWriteFailed, type PullError } from "./errors.ts"

/** The Hub base URL: the option, else `$HF_ENDPOINT`, else https://huggingface.co (no trailing slash). */
export const hubEndpoint = (option?: string): string => (option ?? process.env["HF_ENDPOINT"] ?? "https://huggingface.co").replace(/\/+$/, "")

/** The access token: the option, else `$HF_TOKEN` (empty means none). */
export const hubToken = (option?: string): string | undefined => {
  const token = option ?? process.env["HF_TOKEN"]
  return token === undefined || token === "" ? undefined : token
}

/** Our typed errors pass through; anything else becomes `HubDownloadFailed` with its message. */
export const asPullError = (error: unknown): PullError => {
  if (
    error instanceof HubUnreachable || error instanceof HubAccessDenied || error instanceof HubNotFound || error instanceof HubDownloadFailed ||
    error instanceof DownloadCorrupt || error instanceof DiskTooSmall || error instanceof PullWriteFailed
  ) return error
  return new HubDownloadFailed({ url: "", message: `the pull failed: ${error instanceof Error ? error.message : String(error)}`, fix: "Run again with REFINE_AF_DEBUG=1 for details; files already verified are kept." })
}
