/**
 * Seeded randomness for resumable stages.
 *
 * Every random choice a stage makes is drawn from a generator seeded by
 * `seedFor(stageSeed, step, ...)`, never from a shared running generator: the
 * choices of step k then do not depend on how many draws earlier steps made,
 * so a resumed run replays step k exactly as the uninterrupted run did.
 *
 * @example
 * ```ts
 * import { randomFor, seedFor } from "./random.ts"
 * const rng = randomFor(seedFor(42, 7))
 * const dice = 1 + Math.floor(rng() * 6)
 * ```
 */

/** Mixes a seed and any number of integer coordinates into one uint32 (murmur3 finaliser per coordinate). */
export const seedFor = (seed: number, ...coordinates: ReadonlyArray<number>): number => {
  let h = (seed ^ 0x9e3779b9) >>> 0
  for (const coordinate of [coordinates.length, ...coordinates]) {
    h = Math.imul(h ^ (coordinate >>> 0), 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
    // Fold in the high bits of large (non-uint32) coordinates too.
    h = (h + Math.floor(coordinate / 2 ** 32)) >>> 0
  }
  return h >>> 0
}

/** A uniform generator on [0, 1): core's seeded PRNG (mulberry32), under the name this plugin uses. */
export { seededRandom as randomFor } from "@refine-af/core"

/**
 * `count` distinct elements of `items` in random order (partial Fisher–Yates);
 * all of them when `count >= items.length`. Swaps are kept in a map so taking 2
 * of a 50k pool costs O(count), not a copy of the pool.
 */
export const sampleWithoutReplacement = <A>(items: ReadonlyArray<A>, count: number, random: () => number): Array<A> => {
  const take = Math.min(Math.max(0, count), items.length)
  const swapped = new Map<number, number>()
  const at = (index: number): number => swapped.get(index) ?? index
  const picked: Array<A> = []
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (items.length - i))
    const chosen = at(j)
    swapped.set(j, at(i))
    picked.push(items[chosen] as A)
  }
  return picked
}

/** A shuffled copy of `items` (Fisher–Yates). */
export const shuffled = <A>(items: ReadonlyArray<A>, random: () => number): Array<A> =>
  sampleWithoutReplacement(items, items.length, random)

/** A request seed for a language model: a non-negative 31-bit integer, safe for every provider. */
export const requestSeed = (seed: number, ...coordinates: ReadonlyArray<number>): number =>
  seedFor(seed, ...coordinates) & 0x7fffffff
