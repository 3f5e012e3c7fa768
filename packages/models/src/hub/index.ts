/** Pulling models and data: Hugging Face model repositories and the SuperNI evaluation split, resumable and verified. */
export * from "./errors.ts"
export { expectedDigest, type HubFile } from "./digest.ts"
export { ensureRoom, formatBytes, freeBytes } from "./disk.ts"
export { downloadVerified, type DownloadRequest, type DownloadResult } from "./download-file.ts"
export { PULL_RECORD, pulledFrom, type PullRecord } from "./pull-state.ts"
export { hubEndpoint, hubToken } from "./settings.ts"
export * from "./pull-model.ts"
export * from "./pull-superni.ts"
