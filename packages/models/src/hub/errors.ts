/** Failures of pulling models and data from the Hugging Face Hub (or a mirror), one class per cause, each with a fix. */
import { Schema } from "effect"

/** The Hub could not be reached at all (offline, DNS, refused connection). */
export class HubUnreachable extends Schema.TaggedError<HubUnreachable>()("HubUnreachable", {
  url: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** The Hub refused access (401/403): a gated or private repository, or a bad token. */
export class HubAccessDenied extends Schema.TaggedError<HubAccessDenied>()("HubAccessDenied", {
  repo: Schema.String,
  status: Schema.Number,
  message: Schema.String,
  fix: Schema.String
}) {}

/** The repository, revision or file does not exist (404). */
export class HubNotFound extends Schema.TaggedError<HubNotFound>()("HubNotFound", {
  url: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** Any other HTTP failure, or a connection that broke mid-file (the partial file is kept for resuming). */
export class HubDownloadFailed extends Schema.TaggedError<HubDownloadFailed>()("HubDownloadFailed", {
  url: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** A downloaded file's size or hash differs from what the Hub lists (the bad file is deleted). */
export class DownloadCorrupt extends Schema.TaggedError<DownloadCorrupt>()("DownloadCorrupt", {
  path: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** The target folder's disk has less free space than the files still to download. */
export class DiskTooSmall extends Schema.TaggedError<DiskTooSmall>()("DiskTooSmall", {
  dir: Schema.String,
  needed: Schema.Number,
  available: Schema.Number,
  message: Schema.String,
  fix: Schema.String
}) {}

/** Writing into the target folder failed (permissions, path is a file). */
export class PullWriteFailed extends Schema.TaggedError<PullWriteFailed>()("PullWriteFailed", {
  path: Schema.String,
  message: Schema.String,
  fix: Schema.String
}) {}

/** Every error a pull can end with. */
export type PullError = HubUnreachable | HubAccessDenied | HubNotFound | HubDownloadFailed | DownloadCorrupt | DiskTooSmall | PullWriteFailed
