/**
 * Python's `round(value, digits)` for float64: the correctly rounded decimal of
 * the exact binary value, ties to even. SuperNI reports `round(100 * mean, 4)`;
 * JavaScript's `toFixed` rounds ties away from zero (`12.03125` → `12.0313`
 * where Python gives `12.0312`), so ties are detected on the exact expansion.
 *
 * @example
 * ```ts
 * import { pythonRound } from "@refine-af/eval-superni"
 * pythonRound(12.03125, 4) // 12.0312
 * ```
 */
export const pythonRound = (value: number, digits: number): number => {
  if (!Number.isFinite(value) || value === 0) return value
  const magnitude = Math.abs(value)
  // Doubles >= 2^-48 have at most 100 fraction digits, so toFixed(100) is their exact expansion;
  // anything smaller rounds to 0 at the precisions used here and cannot be a tie.
  if (magnitude >= 2 ** -48 && digits < 100) {
    const exact = magnitude.toFixed(100)
    const point = exact.indexOf(".")
    const tail = exact.slice(point + 1 + digits)
    if (/^50*$/.test(tail)) {
      const kept = exact.slice(0, point + 1 + digits)
      const lastDigit = Number(kept.replace(".", "").slice(-1))
      // On an exact tie keep the even neighbour: truncate when the last kept digit is even;
      // otherwise toFixed's round-half-up already gives the even neighbour.
      const rounded = lastDigit % 2 === 0 ? Number(kept) : Number(magnitude.toFixed(digits))
      return Math.sign(value) * rounded
    }
  }
  return Number(value.toFixed(digits))
}
