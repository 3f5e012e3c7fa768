/**
 * IEEE 754 half-precision conversion (bit patterns in a Uint16Array), for
 * float16 host tensors. Node 20 has no Float16Array.
 */
const scratch = new DataView(new ArrayBuffer(4))

/** Rounds a number to the nearest half (ties to even) and returns its 16-bit pattern. */
export const numberToFloat16 = (value: number): number => {
  scratch.setFloat32(0, value)
  const bits = scratch.getUint32(0)
  const sign = (bits >>> 16) & 0x8000
  const exponent = (bits >>> 23) & 0xff
  let mantissa = bits & 0x7fffff
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0) // inf / NaN
  const halfExponent = exponent - 127 + 15
  if (halfExponent >= 0x1f) return sign | 0x7c00 // overflow → inf
  if (halfExponent <= 0) {
    // Subnormal half (or zero): shift the implicit 1 in, round to nearest even.
    if (halfExponent < -10) return sign
    mantissa |= 0x800000
    const shift = 14 - halfExponent
    const half = mantissa >>> shift
    const rest = mantissa & ((1 << shift) - 1)
    const midpoint = 1 << (shift - 1)
    return sign | (rest > midpoint || (rest === midpoint && (half & 1) === 1) ? half + 1 : half)
  }
  const half = (halfExponent << 10) | (mantissa >>> 13)
  const rest = mantissa & 0x1fff
  // A carry out of the mantissa correctly bumps the exponent (and may reach inf).
  return sign | (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half)
}

/** Decodes a 16-bit half pattern to a number. */
export const float16ToNumber = (bits: number): number => {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >>> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 0x1f) return mantissa !== 0 ? NaN : sign * Infinity
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}
