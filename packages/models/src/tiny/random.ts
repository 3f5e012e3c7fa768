/**
 * A small seeded PRNG for reproducible weights: each tensor gets its own
 * stream derived from (seed, tensor name), so adding or reordering tensors
 * never changes the values of the others.
 */

/** 32-bit FNV-1a hash of a string. */
export const hashString = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/** mulberry32: a fast 32-bit generator with a full 2^32 period, plenty for test weights. */
export const mulberry32 = (seed: number) => {
  let state = seed >>> 0
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** `count` normal samples with mean `mean` and standard deviation `std` (Box–Muller), reproducible from (seed, name). */
export const normalTensor = (seed: number, name: string, count: number, std: number, mean = 0): Float32Array => {
  const uniform = mulberry32(hashString(`${seed}:${name}`))
  const out = new Float32Array(count)
  for (let i = 0; i < count; i += 2) {
    // 1 - u keeps the logarithm's argument in (0, 1].
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()))
    const angle = 2 * Math.PI * uniform()
    out[i] = mean + std * radius * Math.cos(angle)
    if (i + 1 < count) out[i + 1] = mean + std * radius * Math.sin(angle)
  }
  return out
}
