/**
 * Machine-independent identities for model and adapter folders. The id goes
 * into records' lineage, so it must not contain where the folder happens to
 * live (an absolute path differs between machines and checkouts) yet must
 * change whenever the weights do: it is the folder's name plus a SHA-256 over
 * the parsed config and the full bytes of the files that define the model.
 */
import { createHash } from "node:crypto"
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { FIELDS_ADDED_LATER } from "../config/llama-config.ts"
import type { ModelFolder } from "../config/model-folder.ts"
import { SafetensorsIoError } from "../safetensors/errors.ts"

// Digests by file (see digestKey): reloading the same checkpoint in one process hashes it once.
const fileDigests = new Map<string, string>()
const READ_BYTES = 4 << 20

/**
 * What a file's digest is remembered by: its device and inode, size, and
 * modification and change times in nanoseconds, and its absolute path. A
 * write changes the change time, which no user can set back, so a file
 * rewritten in place is hashed again.
 */
const digestKey = async (path: string): Promise<string> => {
  const info = await stat(path, { bigint: true })
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}:${nodePath.resolve(path)}`
}

const hashFile = async (path: string): Promise<string> => {
  const hash = createHash("sha256")
  // One buffer read into again and again: a stream's fresh 4 MiB chunk per read made a 13 GB checkpoint 3,000+
  // allocations, each its own mapping (page faults over the whole file) wherever glibc's mmap threshold is fixed.
  const file = await open(path, "r")
  try {
    const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, (await file.stat()).size)))
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await file.close()
  }
  return hash.digest("hex")
}

/** The digests file in a memo folder ({@link IdentityOptions}). */
export const DIGEST_MEMO_FILE = "file-digests.json"
/** Entries a memo keeps (the newest). */
const MEMO_ENTRIES = 1000

const readMemo = async (folder: string): Promise<Record<string, string>> => {
  try {
    const parsed: unknown = JSON.parse(await readFile(nodePath.join(folder, DIGEST_MEMO_FILE), "utf8"))
    // Anything else (a damaged or foreign file) is as good as no memo: it is rewritten.
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {}
    return Object.fromEntries(Object.entries(parsed).filter(([, digest]) => typeof digest === "string" && /^[0-9a-f]{64}$/.test(digest)))
  } catch {
    return {}
  }
}

/** Writes the memo whole (a temporary file renamed over it); failing to is not an error: the digests are only remembered. */
const writeMemo = async (folder: string, memo: Record<string, string>): Promise<void> => {
  const entries = Object.entries(memo).slice(-MEMO_ENTRIES)
  const target = nodePath.join(folder, DIGEST_MEMO_FILE)
  const temporary = `${target}.${process.pid}.${Date.now()}.tmp`
  try {
    await mkdir(folder, { recursive: true })
    await writeFile(temporary, JSON.stringify(Object.fromEntries(entries)))
    await rename(temporary, target)
  } catch {
    await rm(temporary, { force: true }).catch(() => undefined)
  }
}

/** Where file digests outlive the process. */
export interface IdentityOptions {
  /**
   * A folder whose `file-digests.json` remembers each file's SHA-256 by
   * device, inode, size, modification and change time, and path: a later
   * process loading the same unchanged checkpoint reads its digest instead of
   * hashing every byte again (LLaMA-2-7B's 13 GB: ~11 s here, most of a
   * quantised load from the cache). Under `refine-af run`, model-llama gives
   * the cache's `content-ids` folder.
   */
  readonly digestMemo?: string
}

/** The digest memo of a run's cache folder: `<cacheDir>/content-ids`, beside the run core's remembered content ids of input files; none without a cache. */
export const runDigestMemo = (cacheDir: string | undefined): IdentityOptions => cacheDir === undefined ? {} : { digestMemo: nodePath.join(cacheDir, "content-ids") }

/**
 * `<folder name>#<16 hex digits>`: the digest covers `description` and each
 * of `files` (names relative to `folder`, sorted) with its content — never
 * the folder's location.
 */
export const folderIdentity = (folder: string, description: string, files: ReadonlyArray<string>, options: IdentityOptions = {}): Effect.Effect<string, SafetensorsIoError> =>
  Effect.tryPromise({
    try: async () => {
      const memo = options.digestMemo === undefined ? undefined : await readMemo(options.digestMemo)
      let learned = false
      const hash = createHash("sha256").update(description).update("\0")
      for (const file of [...new Set(files)].sort()) {
        const path = nodePath.join(folder, file)
        const key = await digestKey(path)
        let digest = memo?.[key] ?? fileDigests.get(key)
        if (digest === undefined) {
          digest = await hashFile(path)
          fileDigests.set(key, digest)
        }
        if (memo !== undefined && memo[key] !== digest) {
          // The file's earlier versions are forgotten; newest last, so the oldest go first past the cap.
          const place = `:${nodePath.resolve(path)}`
          for (const known of Object.keys(memo)) if (known.endsWith(place)) delete memo[known]
          memo[key] = digest
          learned = true
        }
        hash.update(`${file}\0${digest}\0`)
      }
      if (memo !== undefined && learned) await writeMemo(options.digestMemo!, memo)
      return `${nodePath.basename(nodePath.resolve(folder))}#${hash.digest("hex").slice(0, 16)}`
    },
    catch: (cause) => new SafetensorsIoError({ path: folder, message: `Could not read ${folder} to fingerprint the model (${String(cause)}); check the folder is complete and readable.` })
  })

/**
 * The parsed config as it enters an id: a field of {@link FIELDS_ADDED_LATER}
 * enters only where it differs from the value every earlier model has, so adding
 * it left existing models' ids (and their caches) as they were.
 *
 * @example
 * ```ts
 * import { configDescription } from "@refine-af/models"
 * configDescription({ numLayers: 2, qkNorm: false }) // '{"numLayers":2}'
 * ```
 */
export const configDescription = (config: unknown): string =>
  JSON.stringify(config, (key, value: unknown) =>
    Object.hasOwn(FIELDS_ADDED_LATER, key) && JSON.stringify(value) === JSON.stringify(FIELDS_ADDED_LATER[key as keyof typeof FIELDS_ADDED_LATER]) ? undefined : value)

/**
 * The `LanguageModel` id of a loaded model folder: `llama:<folder name>#<hash>`
 * over the parsed config, tokenizer.json and every safetensors file (and the
 * shard index, when sharded). Copies of one folder at different paths share it.
 */
export const modelIdentity = (model: ModelFolder, options: IdentityOptions = {}): Effect.Effect<string, SafetensorsIoError> => {
  const weightFiles = model.files.filter((file) => file.endsWith(".safetensors") || file === "model.safetensors.index.json")
  const files = model.files.includes("tokenizer.json") ? [...weightFiles, "tokenizer.json"] : weightFiles
  return Effect.map(folderIdentity(model.folder, configDescription(model.config), files, options), (identity) => `llama:${identity}`)
}

/** The id suffix of a PEFT adapter folder: `+adapter:<folder name>#<hash of its config and weights>`. */
export const adapterIdentity = (adapterFolder: string): Effect.Effect<string, SafetensorsIoError> =>
  Effect.map(folderIdentity(adapterFolder, "peft-adapter", ["adapter_config.json", "adapter_model.safetensors"]), (identity) => `+adapter:${identity}`)
