/** Timing helpers for the compute benchmarks. */

/** Median of a list of numbers. */
export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Times two contenders interleaved in ABBA order (A B B A A B B A …) so load from
 * other processes on the shared machine, and whatever one run leaves behind for
 * the next (spinning thread pools, cache state), hits both alike; returns the
 * median milliseconds of each.
 */
export const interleaved = async (
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>
): Promise<{ a: number; b: number }> => {
  await a()
  await b() // warm-up: first runs allocate
  const ta: Array<number> = []
  const tb: Array<number> = []
  const time = async (f: () => Promise<unknown>, into: Array<number>) => {
    const t = performance.now()
    await f()
    into.push(performance.now() - t)
  }
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      await time(a, ta)
      await time(b, tb)
    } else {
      await time(b, tb)
      await time(a, ta)
    }
  }
  return { a: median(ta), b: median(tb) }
}
