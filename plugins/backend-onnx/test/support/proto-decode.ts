/**
 * A protobuf wire-format reader written independently of the writer, for
 * tests: decodes a message into fields (number → list of raw values).
 */

/** One decoded field value: varint (bigint), fixed32/fixed64 bytes, or length-delimited bytes. */
export type WireValue = { readonly varint: bigint } | { readonly fixed: Uint8Array } | { readonly bytes: Uint8Array }

/** Decodes one message level: field number → values in order. */
export const decodeMessage = (buf: Uint8Array): Map<number, Array<WireValue>> => {
  const fields = new Map<number, Array<WireValue>>()
  let pos = 0
  const varint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      const b = buf[pos++]
      if (b === undefined) throw new Error("truncated varint")
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return result
      shift += 7n
    }
  }
  while (pos < buf.length) {
    const key = Number(varint())
    const field = key >>> 3
    const wire = key & 7
    let value: WireValue
    if (wire === 0) value = { varint: varint() }
    else if (wire === 1) value = { fixed: buf.slice(pos, (pos += 8)) }
    else if (wire === 5) value = { fixed: buf.slice(pos, (pos += 4)) }
    else if (wire === 2) {
      const n = Number(varint())
      value = { bytes: buf.slice(pos, (pos += n)) }
    } else throw new Error(`unexpected wire type ${wire}`)
    const list = fields.get(field) ?? []
    list.push(value)
    fields.set(field, list)
  }
  return fields
}

/** The bytes of a length-delimited value. */
export const bytesOf = (v: WireValue | undefined): Uint8Array => {
  if (v === undefined || !("bytes" in v)) throw new Error("expected a length-delimited field")
  return v.bytes
}

/** A string field. */
export const stringOf = (v: WireValue | undefined): string => new TextDecoder().decode(bytesOf(v))

/** A varint field as a signed 64-bit number. */
export const intOf = (v: WireValue | undefined): number => {
  if (v === undefined || !("varint" in v)) throw new Error("expected a varint field")
  return Number(BigInt.asIntN(64, v.varint))
}

/** Packed varints as signed 64-bit numbers. */
export const packedInts = (v: WireValue | undefined): Array<number> => {
  const buf = bytesOf(v)
  const out: Array<number> = []
  let pos = 0
  while (pos < buf.length) {
    let result = 0n
    let shift = 0n
    for (;;) {
      const b = buf[pos++]!
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) break
      shift += 7n
    }
    out.push(Number(BigInt.asIntN(64, result)))
  }
  return out
}
