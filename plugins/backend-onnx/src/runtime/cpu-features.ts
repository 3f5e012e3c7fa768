/**
 * The CPU's feature flags as the kernel reports them (`/proc/cpuinfo`), read
 * once per process: MLAS picks its kernels by them, so a pre-packed form's
 * layout (`prepacked-store.ts`) and which product form runs faster
 * ({@link prefersBound}) depend on them.
 */
import { readFileSync } from "node:fs"
import { cpus } from "node:os"
import type { WeightLeftFrom } from "../compile/fusions.ts"

let cached: { readonly model: string; readonly flags: ReadonlySet<string> | undefined } | undefined

/** The flags line of a `/proc/cpuinfo` text (its first processor), as a set; undefined when it has none. */
export const parseCpuFlags = (cpuinfo: string): ReadonlySet<string> | undefined => {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]
  return line === undefined ? undefined : new Set(line.trim().split(/\s+/))
}

/** The CPU's model name and feature flags (flags undefined off Linux). */
export const cpuFeatures = (): { readonly model: string; readonly flags: ReadonlySet<string> | undefined } => {
  if (cached !== undefined) return cached
  let flags: ReadonlySet<string> | undefined
  try {
    flags = parseCpuFlags(readFileSync("/proc/cpuinfo", "utf8"))
  } catch {
    // Not Linux: the model name stands for the CPU.
  }
  cached = { model: `${process.arch} ${cpus()[0]?.model ?? "unknown"}`, flags }
  return cached
}

/** Whether MLAS runs its AVX-512 kernels (16 floats wide) on this CPU: it picks them where the CPU has `avx512f`. */
const hasAvx512 = (flags: ReadonlySet<string> | undefined): boolean => flags?.has("avx512f") === true

/**
 * The inner size from which a bound weight is read rather than baked at one
 * row (both kernel widths) and, with AVX-512 kernels, at every row count
 * ({@link prefersBound}); and the one from which, with AVX-512 kernels, the
 * weight-left form (`(W·xᵀ)ᵀ`) beats re-packing W from 2 rows
 * ({@link weightLeftFrom}).
 */
const WIDE_K = { prefersBound: 2048, avx512WeightLeft: 1024 } as const

/**
 * Whether a product `x·Wᵀ` of `rows` rows and inner size `k` should read a
 * bound (not pre-packed) weight rather than a baked one onnxruntime
 * pre-packs, on the CPU provider (`BackendService.prefersBound`): as fast,
 * or slower by too little to pay for a second copy of the weights (a
 * model-sized set of pages, and its pre-packing).
 *
 * - AVX2 kernels (8 floats wide), with weight-left products (the CPU
 *   default from 4 rows): from 4 rows, at every K; the weight streams past the
 *   rows at full width. At one row the pre-packed product is faster, by
 *   1.3–1.6× at small K (bake) and 1.04–1.15× at K = 2048 (gemv-layouts.json,
 *   gemv-layouts-streamed.json, AMD EPYC); whole 1.1B batch-1 decode 7.49 vs
 *   7.17 tok/s baked vs on the mapped file, 1.045×, for PSS 2.01× the weight
 *   bytes against 1.06× (weights-1.1b-cached.json): bound from K = 2048 since
 *   session 23. At 2-3 rows a bound weight is re-packed every run (bake; the
 *   weight-left form there is unmeasured on AVX2).
 * - AVX-512 kernels (16 wide): in a weight-left product the rows are the
 *   kernel's columns, so below 16 rows half of every vector or more is
 *   padding. Measured with `tools/bench-llama/gemv-layouts.ts --streamed` on
 *   a 2-core Xeon (bench-results/gemv-layouts-streamed-avx512.json,
 *   gemv-layouts-rows-avx512.json): at K ≤ 768 the pre-packed product wins at
 *   every row count by a wide margin (the 30M model's vocabulary head,
 *   K = 384, at 8 rows 2.66 ms baked vs 3.90–4.11 weight-left; whole 30M
 *   decode steps 1.67× / 1.35× / 1.15× faster baked at 4 / 8 / 16 rows, 120M
 *   1.2× at 8): bake. From K = 2048 the bound weight is as fast or faster at
 *   one row (MLAS's one-row kernel on W as stored: 0.71–1.03× the baked time)
 *   and at 8-32 rows (weight-left: 0.80–1.04×), and a little slower at 2-7
 *   rows (1.06–1.34×; whole 1.1B decode steps 1.22–1.25× at 2 and 4 in
 *   session 22, 1.54–1.56× at 2, 1.42–1.45× at 4 and 1.2× at 8 in session
 *   25 on the mapped float32 cache, equal at 1: the weight-left kernel pads
 *   the rows to 16 columns, so bound steps of 2–8 rows all take ~250 ms,
 *   compute-bound) and above 32 (1.13–1.18×): read bound at every row count
 *   (one copy of the weights; `baked_decode_rows: all` chooses the speed). Baking the 2-7-row
 *   steps too bought 3% on a job-like generation at 1.1B (24 requests of
 *   uneven lengths, continuous batching from 8 rows: 61.5 s against 63.2 s)
 *   for a second set of file pages (PSS 2.15× the weight bytes against
 *   1.10×) and a 41 s first run making the store's pre-packed forms
 *   (tools/bench-weights, bench-results/weights-1.1b-mixed-avx512.json).
 * - Without weight-left products a bound weight of 2 or more rows is
 *   re-packed every run (1.3–1.4× slower than weight-left at K = 2048 on
 *   AVX-512): bake, except at one row from K = 2048.
 */
export const prefersBound = (weightLeft: boolean, flags: ReadonlySet<string> | undefined) => (rows: number, k: number): boolean => {
  const wide = k >= WIDE_K.prefersBound
  if (!hasAvx512(flags)) return (weightLeft && rows >= 4) || (wide && rows === 1)
  return wide && (rows === 1 || weightLeft)
}

/**
 * The weight-left rows by inner size (compile/fusions.ts `WeightLeftFrom`):
 * with AVX-512 kernels from 2 rows at K ≥ 1024, where re-packing the weight
 * every run costs more than the padded panels (measured: 0.72–0.88× the
 * re-packing product's time at 2-3 rows for K = 1024-5632, equal for one
 * shape, 1536 × 32000; the 1.1B model's
 * 2- and 3-row decode steps on shared weights 1.34× / 1.41× faster; equal at
 * K = 768, slower at K = 384); from 4 rows otherwise (the measured AVX2 rule).
 */
export const weightLeftFrom = (flags: ReadonlySet<string> | undefined): WeightLeftFrom => (hasAvx512(flags) ? [[WIDE_K.avx512WeightLeft, 2]] : [])
