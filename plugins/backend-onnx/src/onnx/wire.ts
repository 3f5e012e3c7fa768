/**
 * Protocol-buffer wire format, write side: just what onnx.proto needs
 * (varints, 32-bit floats, length-delimited bytes / strings / sub-messages,
 * packed repeated scalars).
 *
 * Why our own: the ONNX messages we emit are a dozen fixed shapes, and a
 * generated protobuf runtime would be a large dependency for ~150 lines.
 *
 * A writer keeps a list of byte chunks instead of one growing buffer, so a
 * large weight (raw_data) is referenced, not copied, until `finish()` joins
 * everything once.
 */

/** Protobuf wire types (the low three bits of a field's tag). */
export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_LENGTH_DELIMITED = 2
export const WIRE_FIXED32 = 5

const utf8 = new TextEncoder()

/** Appends protobuf fields; `finish()` returns the encoded message. */
export class ProtoWriter {
  private readonly chunks: Array<Uint8Array> = []
  private pending: Array<number> = []
  /** Total encoded length so far (bytes). */
  length = 0

  private byte(value: number): void {
    this.pending.push(value)
    this.length += 1
  }

  private flush(): void {
    if (this.pending.length > 0) {
      this.chunks.push(Uint8Array.from(this.pending))
      this.pending = []
    }
  }

  private chunk(bytes: Uint8Array): void {
    // Small chunks go through `pending` so a message of many tiny fields stays a few allocations.
    if (bytes.length < 64) {
      for (let i = 0; i < bytes.length; i++) this.pending.push(bytes[i]!)
    } else {
      this.flush()
      this.chunks.push(bytes)
    }
    this.length += bytes.length
  }

  /** Raw varint (no tag). Negative numbers are 64-bit two's complement, as protobuf int64 wants. */
  rawVarint(value: number | bigint): void {
    if (typeof value === "number" && value >= 0 && Number.isSafeInteger(value)) {
      let v = value
      while (v >= 0x80) {
        this.byte((v % 0x80) | 0x80)
        v = Math.floor(v / 0x80)
      }
      this.byte(v)
      return
    }
    let big = BigInt.asUintN(64, BigInt(value))
    while (big >= 0x80n) {
      this.byte(Number(big & 0x7fn) | 0x80)
      big >>= 7n
    }
    this.byte(Number(big))
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType)
  }

  /** int32 / int64 / enum / bool field. */
  varint(field: number, value: number | bigint): void {
    this.tag(field, WIRE_VARINT)
    this.rawVarint(value)
  }

  /** `float` field (fixed32). */
  float32(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32)
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setFloat32(0, value, true)
    this.chunk(bytes)
  }

  /** `double` field (fixed64). */
  float64(field: number, value: number): void {
    this.tag(field, WIRE_FIXED64)
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setFloat64(0, value, true)
    this.chunk(bytes)
  }

  /** `bytes` field (the array is referenced, not copied, until `finish`). */
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WIRE_LENGTH_DELIMITED)
    this.rawVarint(value.length)
    this.chunk(value)
  }

  /** `string` field (UTF-8). */
  string(field: number, value: string): void {
    this.bytes(field, utf8.encode(value))
  }

  /** Embedded message field. */
  message(field: number, inner: ProtoWriter): void {
    this.tag(field, WIRE_LENGTH_DELIMITED)
    this.rawVarint(inner.length)
    inner.flush()
    this.flush()
    for (const c of inner.chunks) this.chunks.push(c)
    this.length += inner.length
  }

  /** Packed repeated int64 / int32 field. */
  packedVarints(field: number, values: ReadonlyArray<number | bigint>): void {
    if (values.length === 0) return
    const inner = new ProtoWriter()
    for (const v of values) inner.rawVarint(v)
    this.message(field, inner)
  }

  /** Packed repeated float field. */
  packedFloat32(field: number, values: ReadonlyArray<number>): void {
    if (values.length === 0) return
    const bytes = new Uint8Array(values.length * 4)
    const view = new DataView(bytes.buffer)
    values.forEach((v, i) => view.setFloat32(i * 4, v, true))
    this.bytes(field, bytes)
  }

  /** Joins all chunks into one buffer. */
  finish(): Uint8Array {
    this.flush()
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const c of this.chunks) {
      out.set(c, offset)
      offset += c.length
    }
    return out
  }
}
