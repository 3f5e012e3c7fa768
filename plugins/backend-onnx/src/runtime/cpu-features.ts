/**
 * The CPU's feature flags as the kernel reports them (`/proc/cpuinfo`), read
 * once per process: MLAS picks its kernels by them, so a pre-packed form's
 * layout (`prepacked-store.ts`) and which product form runs faster
 * ({@link boundAsFastFromRows}) depend on them.
 */
import { readFileSync } from "node:fs"
import { cpus } from "node:os"

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

/**
 * From how many rows a product `x·Wᵀ` on a bound (not pre-packed) weight is
 * about as fast as on a baked one onnxruntime pre-packed, on the CPU
 * provider (`BackendService.boundAsFastFromRows`). With weight-left products
 * (`(W·xᵀ)ᵀ`, the CPU default from 4 rows) and AVX2 kernels (8 floats wide),
 * 4: the weight streams past the rows at full width. With AVX-512 kernels
 * (16 wide; MLAS uses them where the CPU has `avx512f`) the rows are the
 * kernel's columns, so below 16 rows half of every vector or more is wasted,
 * and a pre-packed product was faster at every row count measured
 * (tools/bench-llama/gemv-layouts.ts on a 2-core Xeon with AVX-512, streamed
 * weights, bench-results/gemv-layouts-streamed-avx512.json: the 30M model's
 * vocabulary head at 8 rows 2.66 ms baked vs 3.90–4.11 weight-left; whole decode steps of the 30M model 1.67× / 1.35× / 1.15×
 * faster baked at 4 / 8 / 16 rows, the 120M model 1.2× at 8): Infinity.
 * Without weight-left products a bound weight is re-packed every run:
 * Infinity as well.
 */
export const boundAsFastFromRows = (weightLeft: boolean, flags: ReadonlySet<string> | undefined): number =>
  !weightLeft || flags?.has("avx512f") === true ? Infinity : 4
