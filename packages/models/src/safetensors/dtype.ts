/**
 * Safetensors element types: byte sizes and conversions of half-precision
 * formats to float32 (the compute core works in f32; f16 may be kept as raw
 * bits for backends that take it directly).
 */

/** The dtype strings of the safetensors format that this reader accepts. */
export const SAFETENSORS_DTYPES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"] as const

export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number]

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1
}

/** True when `value` names a dtype this reader understands. */
export const isSafetensorsDtype = (value: unknown): value is SafetensorsDtype =>
  typeof value === "string" && (SAFETENSORS_DTYPES as ReadonlyArray<string>).includes(value)

/** Bytes per element of `dtype`, e.g. `bytesPerElement("BF16") === 2`. */
export const bytesPerElement = (dtype: SafetensorsDtype): number => BYTES_PER_ELEMENT[dtype]

/** The dtypes that can be converted to float32 by {@link toFloat32}. */
export type FloatDtype = "F64" | "F32" | "F16" | "BF16"

/** True for the floating-point dtypes. */
export const isFloatDtype = (dtype: SafetensorsDtype): dtype is FloatDtype =>
  dtype === "F64" || dtype === "F32" || dtype === "F16" || dtype === "BF16"

// Shared scratch for bit reinterpretation; a module-level view is safe because
// JavaScript is single-threaded within an isolate.
const scratch = new DataView(new ArrayBuffer(4))

/** IEEE 754 half (binary16) bits → float32 value, exact for every input including subnormals, inf and NaN. */
export const halfBitsToFloat = (bits: number): number => {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

/** bfloat16 bits → float32 value (bf16 is the upper half of an f32). */
export const bfloat16BitsToFloat = (bits: number): number => {
  scratch.setUint32(0, (bits & 0xffff) << 16, true)
  return scratch.getFloat32(0, true)
}

/** float32 value → IEEE half bits, round-to-nearest-even (used by the writer and tests). */
export const floatToHalfBits = (value: number): number => {
  scratch.setFloat32(0, value, true)
  const x = scratch.getUint32(0, true)
  const sign = (x >>> 16) & 0x8000
  const exponent = (x >>> 23) & 0xff
  const mantissa = x & 0x7fffff
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0)
  const halfExponent = exponent - 127 + 15
  if (halfExponent >= 0x1f) return sign | 0x7c00
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign
    const full = mantissa | 0x800000
    const shift = 14 - halfExponent
    const rounded = full >> shift
    const remainder = full & ((1 << shift) - 1)
    const halfway = 1 << (shift - 1)
    const roundUp = remainder > halfway || (remainder === halfway && (rounded & 1) === 1)
    return sign | (rounded + (roundUp ? 1 : 0))
  }
  const rounded = mantissa >> 13
  const remainder = mantissa & 0x1fff
  const roundUp = remainder > 0x1000 || (remainder === 0x1000 && (rounded & 1) === 1)
  // A carry out of the mantissa correctly bumps the exponent.
  return (sign | (halfExponent << 10) | rounded) + (roundUp ? 1 : 0)
}

/** float32 value → bfloat16 bits, round-to-nearest-even. */
export const floatToBfloat16Bits = (value: number): number => {
  scratch.setFloat32(0, value, true)
  return bfloat16FromFloat32Bits(scratch.getUint32(0, true))
}

/** float32 bits (as a uint32) → bfloat16 bits, round-to-nearest-even; a NaN stays a (quiet) NaN. */
const bfloat16FromFloat32Bits = (x: number): number => {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff
  const rounding = 0x7fff + ((x >>> 16) & 1)
  return ((x + rounding) >>> 16) & 0xffff
}

/**
 * float32 values → half-precision bits (`F16`: IEEE binary16, `BF16`: bfloat16), round-to-nearest-even,
 * as the little-endian elements of a tensor of that dtype. bfloat16 works on the float32 bits directly
 * (a few ns an element, for multi-GB merges); NaN stays NaN.
 *
 * @example
 * ```ts
 * import { toHalfPrecision } from "@refine-af/models"
 * toHalfPrecision(new Float32Array([1, -2]), "BF16") // Uint16Array [0x3f80, 0xc000]
 * ```
 */
export const toHalfPrecision = (values: Float32Array, dtype: "F16" | "BF16"): Uint16Array => {
  const out = new Uint16Array(values.length)
  if (dtype === "F16") {
    for (let i = 0; i < values.length; i++) out[i] = floatToHalfBits(values[i]!)
    return out
  }
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length)
  for (let i = 0; i < bits.length; i++) out[i] = bfloat16FromFloat32Bits(bits[i]!)
  return out
}

/**
 * Little-endian bytes of a float tensor → a fresh Float32Array.
 * `bytes.length` must equal `count * bytesPerElement(dtype)` (checked by the header validation).
 */
export const toFloat32 = (bytes: Uint8Array, dtype: FloatDtype): Float32Array => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = bytes.byteLength / bytesPerElement(dtype)
  const out = new Float32Array(count)
  switch (dtype) {
    case "F32":
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true)
      break
    case "F64":
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true)
      break
    case "F16":
      for (let i = 0; i < count; i++) out[i] = halfBitsToFloat(view.getUint16(i * 2, true))
      break
    case "BF16":
      for (let i = 0; i < count; i++) out[i] = bfloat16BitsToFloat(view.getUint16(i * 2, true))
      break
  }
  return out
}
