/**
 * The CPU's feature flags as the kernel reports them (`/proc/cpuinfo`), read
 * once per process: MLAS picks its kernels by them, so a pre-packed form's
 * layout (`prepacked-store.ts`) and which product form runs faster
 * ({@link boundAsFast}) depend on them.
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
 * The inner size from which, with AVX-512 kernels, a bound weight is read as
 * fast as a pre-packed one at one row and at 8-32 rows, and the weight-left
 * form (`(W·xᵀ)ᵀ`) beats re-packing W from 2 rows (see below).
 */
const AVX512_WIDE_K = { boundAsFast: 2048, weightLeft: 1024 } as const

/**
 * Whether a product `x·Wᵀ` of `rows` rows and inner size `k` on a bound (not
 * pre-packed) weight runs about as fast as on a baked one onnxruntime
 * pre-packed, on the CPU provider (`BackendService.boundAsFast`).
 *
 * - AVX2 kernels (8 floats wide), with weight-left products (the CPU
 *   default from 4 rows): from 4 rows, at every K; the weight streams past the
 *   rows at full width. Below 4 rows the pre-packed product is faster
 *   (1.04–1.14× at K = 2048 at one row, more at small K).
 * - AVX-512 kernels (16 wide): in a weight-left product the rows are the
 *   kernel's columns, so below 16 rows half of every vector or more is
 *   padding. Measured with `tools/bench-llama/gemv-layouts.ts --streamed` on
 *   a 2-core Xeon (bench-results/gemv-layouts-streamed-avx512.json,
 *   gemv-layouts-rows-avx512.json): at K ≤ 768 the pre-packed product wins at
 *   every row count (the 30M model's vocabulary head, K = 384, at 8 rows 2.66
 *   ms baked vs 3.90–4.11 weight-left; whole 30M decode steps 1.67× / 1.35×
 *   / 1.15× faster baked at 4 / 8 / 16 rows, 120M 1.2× at 8). From K = 2048
 *   the bound weight is as fast or faster at one row (MLAS's one-row kernel
 *   on W as stored: 0.71–1.03× the baked time) and at 8-32 rows (weight-left:
 *   0.80–1.04×), and slower at 2-7 rows (1.06–1.34×) and above 32 (1.13–1.18×);
 *   whole 1.1B decode steps: equal at 1 and 8 rows, 1.22–1.25× faster baked at
 *   2 and 4.
 * - Without weight-left products a bound weight of 2 or more rows is
 *   re-packed every run: never as fast, except AVX-512's one-row case.
 */
export const boundAsFast = (weightLeft: boolean, flags: ReadonlySet<string> | undefined) => (rows: number, k: number): boolean => {
  if (!hasAvx512(flags)) return weightLeft && rows >= 4
  if (k < AVX512_WIDE_K.boundAsFast) return false
  return rows === 1 || (weightLeft && rows >= 8 && rows <= 32)
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
export const weightLeftFrom = (flags: ReadonlySet<string> | undefined): WeightLeftFrom => (hasAvx512(flags) ? [[AVX512_WIDE_K.weightLeft, 2]] : [])
