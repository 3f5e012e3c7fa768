/**
 * erf(x) in float64 for the reference interpreter (JS has no Math.erf).
 * Uses the Maclaurin series for small |x| and a continued fraction for erfc
 * for large |x|; both converge to full double precision in their ranges.
 */

/** Error function, accurate to ~1e-15 relative. */
export const erf = (x: number): number => {
  if (Number.isNaN(x)) return x
  const ax = Math.abs(x)
  if (ax < 2.5) {
    // erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x
    let total = x
    const x2 = x * x
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n
      const add = term / (2 * n + 1)
      total += add
      if (Math.abs(add) < 1e-17 * Math.abs(total)) break
    }
    return (2 / Math.sqrt(Math.PI)) * total
  }
  if (ax > 6) return Math.sign(x)
  // erfc x = e^{-x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))) evaluated backwards (Lentz-free).
  let f = 0
  for (let k = 60; k >= 1; k--) f = (k / 2) / (ax + f)
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f)
  return Math.sign(x) * (1 - erfc)
}
