/**
 * IEEE 754 binary16 rounding for the reference interpreter (round half to even,
 * subnormals, overflow to ±Infinity), so float16 casts and constants mean the
 * same here as on a device.
 */

/** `x` rounded to the nearest float16 value, returned as a number. */
export const roundToFloat16 = (x: number): number => {
  if (!Number.isFinite(x) || x === 0) return x
  const sign = x < 0 ? -1 : 1
  const a = Math.abs(x)
  // Values at or above 65520 (= max + half an ulp) round to infinity.
  if (a >= 65520) return sign * Infinity
  let e = Math.floor(Math.log2(a))
  if (2 ** e > a) e -= 1
  else if (2 ** (e + 1) <= a) e += 1
  // Normal numbers keep 10 fraction bits; below 2^-14 the spacing is fixed at 2^-24.
  const quantum = 2 ** (Math.max(e, -14) - 10)
  const r = a / quantum
  const floor = Math.floor(r)
  const rest = r - floor
  const n = rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor
  return sign * n * quantum
}
