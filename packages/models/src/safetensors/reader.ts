/**
 * Reading safetensors files through a file handle: the header is validated
 * once, then each tensor's byte range is read on demand into a buffer of
 * exactly its size — the file is never loaded whole, so a 14 GB checkpoint
 * costs its header plus the tensors actually requested. An F32 tensor is
 * returned as a view of that buffer (no conversion copy).
 */
import { open, type FileHandle } from "node:fs/promises"
import { Effect, type Scope } from "effect"
import { isFloatDtype, toFloat32 } from "./dtype.ts"
import { SafetensorsFormatError, SafetensorsIoError, TensorNotFoundError, UnsupportedDtypeError } from "./errors.ts"
import { parseHeader, parseHeaderLength, type SafetensorsHeader, type TensorEntry } from "./header.ts"

/** An open safetensors file. Valid until the scope that opened it closes. */
export interface SafetensorsFile {
  readonly path: string
  readonly header: SafetensorsHeader
  /** The tensor's raw little-endian bytes (a fresh buffer of exactly its size). */
  readonly readBytes: (name: string) => Effect.Effect<Uint8Array, TensorNotFoundError | SafetensorsIoError | SafetensorsFormatError>
  /** The tensor converted to float32 (F32 / F16 / BF16 / F64 on disk). */
  readonly readFloat32: (name: string) => Effect.Effect<Float32Array, TensorNotFoundError | SafetensorsIoError | SafetensorsFormatError | UnsupportedDtypeError>
  /** The entry (dtype, shape, byte range) of a tensor. */
  readonly entry: (name: string) => Effect.Effect<TensorEntry, TensorNotFoundError>
}

const ioError = (path: string, action: string) => (cause: unknown) =>
  new SafetensorsIoError({ path, message: `Could not ${action} ${path}: ${cause instanceof Error ? cause.message : String(cause)}. Check that the file exists and is readable.` })

/** Reads exactly `length` bytes at `position`, failing as Truncated if the file ends early (e.g. it shrank after opening). */
const readRange = (handle: FileHandle, path: string, position: number, length: number) =>
  Effect.tryPromise({
    try: async () => {
      const buffer = new Uint8Array(length)
      let filled = 0
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      return { buffer, filled }
    },
    catch: ioError(path, "read")
  }).pipe(
    Effect.flatMap(({ buffer, filled }) =>
      filled === length
        ? Effect.succeed(buffer)
        : Effect.fail(new SafetensorsFormatError({ path, problem: "Truncated", message: `${path} ended after ${position + filled} bytes while reading ${length} bytes at offset ${position}; the file is truncated — re-download it.` }))
    )
  )

/**
 * Opens and validates a safetensors file. The file handle is closed when the
 * surrounding scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { openSafetensors } from "@refine-af/models"
 * const embedding = Effect.scoped(
 *   Effect.flatMap(openSafetensors("model.safetensors"), (file) => file.readFloat32("model.embed_tokens.weight"))
 * )
 * ```
 */
export const openSafetensors = Effect.fnUntraced(function* (path: string): Effect.fn.Return<SafetensorsFile, SafetensorsIoError | SafetensorsFormatError, Scope.Scope> {
  const handle = yield* Effect.acquireRelease(
    Effect.tryPromise({ try: () => open(path, "r"), catch: ioError(path, "open") }),
    (h) => Effect.promise(() => h.close())
  )
  const { size } = yield* Effect.tryPromise({ try: () => handle.stat(), catch: ioError(path, "stat") })
  const prefix = size >= 8 ? yield* readRange(handle, path, 0, 8) : new Uint8Array(0)
  const headerLength = yield* parseHeaderLength(path, prefix, size)
  const headerBytes = yield* readRange(handle, path, 8, headerLength)
  const header = yield* parseHeader(path, headerBytes, size)

  const entry = (name: string) => {
    const found = header.tensors.get(name)
    return found
      ? Effect.succeed(found)
      : Effect.fail(new TensorNotFoundError({ path, name, message: `${path} has no tensor "${name}" (it has ${header.tensors.size} tensors, e.g. ${[...header.tensors.keys()].slice(0, 3).join(", ")}). Check the model architecture and the tensor naming.` }))
  }
  const readBytes = (name: string) => Effect.flatMap(entry(name), (e) => readRange(handle, path, e.begin, e.end - e.begin))
  const readFloat32 = (name: string) =>
    Effect.flatMap(entry(name), (e): Effect.Effect<Float32Array, SafetensorsIoError | SafetensorsFormatError | UnsupportedDtypeError> => {
      const dtype = e.dtype
      if (!isFloatDtype(dtype)) {
        return Effect.fail(new UnsupportedDtypeError({ path, name, dtype, message: `${path}: tensor "${name}" is ${dtype}, not a floating-point type; it cannot be read as float32.` }))
      }
      // F32 on disk: the freshly read buffer already is the tensor (the host is little-endian), so no second copy.
      return Effect.map(readRange(handle, path, e.begin, e.end - e.begin), (bytes) =>
        dtype === "F32" ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : toFloat32(bytes, dtype))
    })
  return { path, header, readBytes, readFloat32, entry } satisfies SafetensorsFile
})
