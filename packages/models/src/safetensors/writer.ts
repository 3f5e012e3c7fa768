/**
 * Writing safetensors files. Tensors are streamed to the file one after the
 * other (never concatenated in memory); the header is padded with spaces to a
 * multiple of 8 bytes so every tensor starts 8-byte aligned, as the format
 * recommends.
 */
import { open } from "node:fs/promises"
import { Effect } from "effect"
import { bytesPerElement, type SafetensorsDtype } from "./dtype.ts"
import { SafetensorsFormatError, SafetensorsIoError } from "./errors.ts"

/**
 * A tensor to write: its little-endian element bytes in any typed-array view,
 * or `produce`, called once when the tensor's turn comes — so a model larger
 * than memory (a 7B-shaped random model) is written one tensor at a time.
 */
export type TensorToWrite = {
  readonly name: string
  readonly dtype: SafetensorsDtype
  readonly shape: ReadonlyArray<number>
} & ({ readonly data: ArrayBufferView } | { readonly produce: () => ArrayBufferView })

const elementCount = (shape: ReadonlyArray<number>) => shape.reduce((product, dim) => product * dim, 1)
const byteLengthOf = (tensor: TensorToWrite) => ("data" in tensor ? tensor.data.byteLength : elementCount(tensor.shape) * bytesPerElement(tensor.dtype))

/** Builds the padded header bytes for `tensors` (exported for tests that craft hostile files). */
export const encodeHeader = (tensors: ReadonlyArray<TensorToWrite>, metadata?: Readonly<Record<string, string>>): Uint8Array => {
  const header: Record<string, unknown> = {}
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata
  let offset = 0
  for (const tensor of tensors) {
    const length = byteLengthOf(tensor)
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + length] }
    offset += length
  }
  const json = new TextEncoder().encode(JSON.stringify(header))
  const padded = Math.ceil(json.byteLength / 8) * 8
  const bytes = new Uint8Array(padded).fill(0x20)
  bytes.set(json)
  return bytes
}

/**
 * Writes `tensors` (in the given order) and optional string `metadata` to `path`.
 *
 * @example
 * ```ts
 * import { writeSafetensors } from "@refine-af/models"
 * const write = writeSafetensors("w.safetensors", [{ name: "w", dtype: "F32", shape: [2], data: new Float32Array([1, 2]) }])
 * ```
 */
export const writeSafetensors = Effect.fnUntraced(function* (
  path: string,
  tensors: ReadonlyArray<TensorToWrite>,
  metadata?: Readonly<Record<string, string>>
) {
  const names = new Set<string>()
  for (const tensor of tensors) {
    const expected = elementCount(tensor.shape) * bytesPerElement(tensor.dtype)
    if (byteLengthOf(tensor) !== expected || names.has(tensor.name) || tensor.name === "__metadata__") {
      return yield* Effect.fail(new SafetensorsFormatError({
        path,
        problem: "BadEntry",
        message: names.has(tensor.name) || tensor.name === "__metadata__"
          ? `Cannot write ${path}: tensor name "${tensor.name}" is duplicated or reserved.`
          : `Cannot write ${path}: tensor "${tensor.name}" has ${byteLengthOf(tensor)} bytes but shape [${tensor.shape.join(", ")}] of ${tensor.dtype} needs ${expected}.`
      }))
    }
    names.add(tensor.name)
  }
  const header = encodeHeader(tensors, metadata)
  const prefix = new Uint8Array(8)
  new DataView(prefix.buffer).setBigUint64(0, BigInt(header.byteLength), true)
  yield* Effect.tryPromise({
    try: async () => {
      const handle = await open(path, "w")
      try {
        await handle.write(prefix)
        await handle.write(header)
        for (const tensor of tensors) {
          const data = "data" in tensor ? tensor.data : tensor.produce()
          if (data.byteLength !== byteLengthOf(tensor)) throw new Error(`tensor "${tensor.name}" produced ${data.byteLength} bytes but shape [${tensor.shape.join(", ")}] of ${tensor.dtype} needs ${byteLengthOf(tensor)}`)
          await handle.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        }
      } finally {
        await handle.close()
      }
    },
    catch: (cause) => new SafetensorsIoError({ path, message: `Could not write ${path}: ${cause instanceof Error ? cause.message : String(cause)}. Check the folder exists and is writable.` })
  })
})
