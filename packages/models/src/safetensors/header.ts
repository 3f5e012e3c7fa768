/**
 * Safetensors header validation. The layout is: 8-byte little-endian header
 * length N, N bytes of UTF-8 JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: {string: string} }`,
 * then the data section; offsets are relative to the start of the data section.
 *
 * Everything a hostile file could lie about is checked here, before any tensor
 * is allocated: header length against the file size and a hard cap, JSON
 * shape, dtype, shape × dtype size = byte length, ranges inside the data
 * section and not overlapping.
 */
import { Effect } from "effect"
import { bytesPerElement, isSafetensorsDtype, type SafetensorsDtype } from "./dtype.ts"
import { SafetensorsFormatError } from "./errors.ts"

/** Headers larger than this are refused (the reference implementation uses the same 100 MB cap). */
export const MAX_HEADER_BYTES = 100_000_000

/** One tensor's entry in a validated header; `begin`/`end` are absolute file offsets. */
export interface TensorEntry {
  readonly name: string
  readonly dtype: SafetensorsDtype
  readonly shape: ReadonlyArray<number>
  readonly begin: number
  readonly end: number
}

/** A validated header: entries in file order plus the free-form string metadata. */
export interface SafetensorsHeader {
  readonly tensors: ReadonlyMap<string, TensorEntry>
  readonly metadata: Readonly<Record<string, string>>
  /** Absolute offset of the data section (8 + header length). */
  readonly dataStart: number
}

const fail = (path: string, problem: SafetensorsFormatError["problem"], message: string) =>
  Effect.fail(new SafetensorsFormatError({ path, problem, message }))

/**
 * Reads and checks the 8-byte length prefix. Returns the header length in
 * bytes, failing when it cannot fit in the file or exceeds {@link MAX_HEADER_BYTES}.
 */
export const parseHeaderLength = (path: string, prefix: Uint8Array, fileSize: number) => {
  if (prefix.byteLength < 8 || fileSize < 8) {
    return fail(path, "Truncated", `${path} is ${fileSize} bytes, shorter than the 8-byte safetensors length prefix; the file is truncated or not a safetensors file — re-download or re-export it.`)
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8)
  const length = view.getBigUint64(0, true)
  if (length > BigInt(MAX_HEADER_BYTES)) {
    return fail(path, "HeaderTooLarge", `${path} declares a ${length}-byte header, above the ${MAX_HEADER_BYTES}-byte limit; the file is corrupt or not a safetensors file.`)
  }
  const headerLength = Number(length)
  if (8 + headerLength > fileSize) {
    return fail(path, "Truncated", `${path} declares a ${headerLength}-byte header but the file has only ${fileSize - 8} bytes after the prefix; the file is truncated — re-download it.`)
  }
  return Effect.succeed(headerLength)
}

const isNonNegativeSafeInteger = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0

const decodeJson = (path: string, bytes: Uint8Array) => {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
    return Effect.succeed(JSON.parse(text) as unknown)
  } catch (cause) {
    return fail(path, "HeaderNotJson", `${path}: the safetensors header is not valid UTF-8 JSON (${String(cause)}); the file is corrupt.`)
  }
}

const parseEntry = (path: string, name: string, raw: unknown, dataStart: number, dataSize: number) => {
  const bad = (why: string) => fail(path, "BadEntry", `${path}: tensor "${name}" ${why}; the file is corrupt or written by an incompatible tool.`)
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return bad("is not an object")
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>
  if (!isSafetensorsDtype(dtype)) return bad(`has unsupported dtype ${JSON.stringify(dtype)} (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)`)
  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) return bad(`has shape ${JSON.stringify(shape)}, expected an array of non-negative integers`)
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeSafeInteger)) {
    return bad(`has data_offsets ${JSON.stringify(offsets)}, expected [begin, end] non-negative integers`)
  }
  const [begin, end] = offsets as [number, number]
  if (end < begin) return bad(`has data_offsets [${begin}, ${end}] with end before begin`)
  let elements = 1
  for (const dim of shape as Array<number>) elements *= dim
  const expectedBytes = elements * bytesPerElement(dtype)
  if (!Number.isSafeInteger(expectedBytes) || expectedBytes !== end - begin) {
    return bad(`has ${end - begin} bytes but shape [${shape.join(", ")}] of ${dtype} needs ${expectedBytes}`)
  }
  if (end > dataSize) {
    return fail(path, "OutOfBounds", `${path}: tensor "${name}" ends at data offset ${end} but the data section has ${dataSize} bytes; the file is truncated — re-download it.`)
  }
  return Effect.succeed<TensorEntry>({ name, dtype, shape: shape as Array<number>, begin: dataStart + begin, end: dataStart + end })
}

/**
 * Validates the JSON header bytes of a file of `fileSize` bytes whose header
 * is `headerBytes` long. Fails with a {@link SafetensorsFormatError} on any
 * inconsistency; never allocates more than the header itself.
 */
export const parseHeader = Effect.fnUntraced(function* (path: string, headerBytes: Uint8Array, fileSize: number) {
  const dataStart = 8 + headerBytes.byteLength
  const dataSize = fileSize - dataStart
  const json = yield* decodeJson(path, headerBytes)
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return yield* fail(path, "HeaderNotJson", `${path}: the safetensors header is JSON but not an object; the file is corrupt.`)
  }
  const metadata: Record<string, string> = {}
  const entries: Array<TensorEntry> = []
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === "string")) {
        return yield* fail(path, "BadEntry", `${path}: "__metadata__" must map strings to strings; the file is corrupt.`)
      }
      Object.assign(metadata, raw)
      continue
    }
    entries.push(yield* parseEntry(path, name, raw, dataStart, dataSize))
  }
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)
  for (let i = 1; i < byOffset.length; i++) {
    const previous = byOffset[i - 1]!
    const current = byOffset[i]!
    // Zero-length tensors occupy no bytes and cannot overlap anything.
    if (current.begin < previous.end && current.end > current.begin) {
      return yield* fail(path, "Overlap", `${path}: tensors "${previous.name}" and "${current.name}" share bytes; the file is corrupt or hostile.`)
    }
  }
  return { tensors: new Map(entries.map((entry) => [entry.name, entry])), metadata, dataStart } satisfies SafetensorsHeader
})
