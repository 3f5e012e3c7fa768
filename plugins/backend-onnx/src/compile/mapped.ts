/**
 * Baked initializers mapped from files. A baked weight whose bytes also lie
 * in an immutable file (`BlockQuantisedWeight.stored`: the quantised-weight
 * cache) becomes an external initializer pointing at that file, which
 * onnxruntime maps instead of copying into the session, and releases once
 * every reader has pre-packed it (measured, onnxruntime 1.30 CPU, an int4
 * MatMulNBits weight: session memory 288 → 226 MiB for 140 MiB of codes and
 * scales with int8 activations, 195 → 132 MiB with float32 ones; the rest is
 * onnxruntime's pre-packed form).
 *
 * Two limits of onnxruntime shape this. It resolves file locations in one
 * folder per session (`model_external_initializers_file_folder_path`;
 * absolute locations are refused). And once a session is given in-memory
 * external data it looks every external initializer up there, so a session
 * maps files only when it holds no in-memory external data: otherwise its
 * mapped initializers are turned back into in-memory ones (their bytes are
 * kept for that).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs"
import * as nodePath from "node:path"
import { quantisedPartBytes, type BlockQuantisedWeight } from "@refine-af/tensor"
import type { OnnxTensor } from "../onnx/model.ts"

/** Where an initializer's bytes also lie on disk: `file` in `folder`, from byte `offset` (an immutable file). */
export interface StoredBytes {
  readonly folder: string
  readonly file: string
  readonly offset: number
}

/** Bytes read only when needed (a stored weight's codes, which its holder may not keep in memory). */
export interface LazyBytes {
  readonly length: number
  readonly read: () => Uint8Array
}

/** An initializer's bytes, in memory or read when needed. */
export type InitializerBytes = Uint8Array | LazyBytes

export const lengthOf = (bytes: InitializerBytes): number => (bytes instanceof Uint8Array ? bytes.byteLength : bytes.length)

export const bytesNow = (bytes: InitializerBytes): Uint8Array => (bytes instanceof Uint8Array ? bytes : bytes.read())

/** A compiled program's mapped initializers: their folder, and their bytes by initializer name (to hold them in memory instead). */
export interface MappedInitializers {
  readonly folder: string
  readonly bytes: ReadonlyMap<string, InitializerBytes>
}

/** In-memory external data of a session (file name → bytes). */
export type InMemoryData = Array<{ path: string; data: Uint8Array }>

/** Whether `stored` still names `length` bytes on disk (the file is there and long enough); each file's size is read once per checker. */
export const fileHolds = (): ((stored: StoredBytes, length: number) => boolean) => {
  const sizes = new Map<string, number>()
  return (stored, length) => {
    const path = nodePath.join(stored.folder, stored.file)
    let size = sizes.get(path)
    if (size === undefined) {
      try {
        size = statSync(path).size
      } catch {
        size = -1
      }
      sizes.set(path, size)
    }
    return size >= stored.offset + length
  }
}

/** Whether a quantised weight's stored copy (`BlockQuantisedWeight.stored`) holds its codes and scales on disk, by `holds` (a {@link fileHolds} checker). */
export const storedPartsHeld = (holds: ReturnType<typeof fileHolds>, weight: BlockQuantisedWeight): boolean => {
  const stored = weight.stored
  if (stored === undefined) return false
  const parts = quantisedPartBytes(weight)
  return holds({ ...stored, offset: stored.codesOffset }, parts.codes) && holds({ ...stored, offset: stored.scalesOffset }, parts.scales)
}

/** An external initializer pointing at the stored copy. */
export const mappedInitializer = (tensor: Omit<OnnxTensor, "raw" | "external">, stored: StoredBytes, length: number): OnnxTensor => ({
  ...tensor,
  external: { location: stored.file, offset: stored.offset, length }
})

/** The same initializer held in memory instead: its bytes appended to `data` under a fresh file name. */
export const inMemoryInitializer = (tensor: OnnxTensor, bytes: Uint8Array, data: InMemoryData, prefix = "weight"): OnnxTensor => {
  const path = `${prefix}${data.length}.bin`
  data.push({ path, data: bytes })
  return { ...tensor, external: { location: path, offset: 0, length: bytes.byteLength } }
}

/** `length` bytes of the open file `fd` from `offset` (empty when the file is shorter). */
export const readAt = (fd: number, offset: number, length: number): Uint8Array => {
  const bytes = new Uint8Array(length)
  let done = 0
  while (done < length) {
    const n = readSync(fd, bytes, done, length - done, offset + done)
    if (n <= 0) return new Uint8Array(0)
    done += n
  }
  return bytes
}

/** The `length` bytes `stored` names, read from its file (for a mapped initializer a session must hold in memory instead). */
export const readStoredBytes = (stored: StoredBytes, length: number): Uint8Array => {
  const fd = openSync(nodePath.join(stored.folder, stored.file), "r")
  try {
    const bytes = readAt(fd, stored.offset, length)
    if (bytes.byteLength !== length) throw new Error(`${stored.file} ends before byte ${stored.offset + length}`)
    return bytes
  } finally {
    closeSync(fd)
  }
}
