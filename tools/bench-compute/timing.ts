/** Timing helpers for the compute benchmarks. */

/** Median of a list of numbers. */
export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A timed contender: returns nothing (wall time is measured) or its own time in ms (e.g. a child process). */
export type Contender = () => Promise<unknown>

/**
 * Times contenders interleaved, reversing the order every round (A B C, C B A,
 * A B C, …) so load from other processes on the shared machine, and whatever
 * one run leaves behind for the next (spinning thread pools, cache state), hits
 * all alike. One warm-up call each. Returns the median and the minimum ms of
 * each contender: on a shared machine the minimum is the steadier estimate of
 * intrinsic cost (interference only ever adds time), the median shows typical cost.
 */
export const interleaved = async (rounds: number, contenders: ReadonlyArray<Contender>): Promise<Array<Timing>> => {
  for (const c of contenders) await c()
  const times = contenders.map(() => [] as Array<number>)
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map((_, i) => i)
    if (round % 2 === 1) order.reverse()
    for (const i of order) {
      const t = performance.now()
      const reported = await contenders[i]!()
      times[i]!.push(typeof reported === "number" ? reported : performance.now() - t)
    }
  }
  return times.map((t) => ({ median: median(t), min: Math.min(...t) }))
}

/** Median and minimum of a contender's times (ms). */
export interface Timing {
  readonly median: number
  readonly min: number
}
