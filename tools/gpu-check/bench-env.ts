/**
 * Which execution provider the benchmarks run on and where they write, from the environment,
 * so `gpu-check` can run the same benchmarks on cuda and webgpu without touching the CPU
 * results: `REFINE_AF_BENCH_PROVIDER` (cpu | cuda | webgpu, default cpu) and
 * `REFINE_AF_BENCH_OUT` (the JSON file to write instead of the default).
 */
import * as path from "node:path"

/** An execution provider of backend-onnx. */
export type BenchProvider = "cpu" | "cuda" | "webgpu"

/** The provider the benchmarks run on. */
export const benchProvider = (): BenchProvider => {
  const value = process.env["REFINE_AF_BENCH_PROVIDER"] ?? "cpu"
  if (value !== "cpu" && value !== "cuda" && value !== "webgpu") throw new Error(`REFINE_AF_BENCH_PROVIDER must be cpu, cuda or webgpu, got "${value}"`)
  return value
}

/** The JSON file a benchmark writes: `REFINE_AF_BENCH_OUT`, else `fallback`. */
export const benchOutFile = (fallback: string): string => path.resolve(process.env["REFINE_AF_BENCH_OUT"] ?? fallback)
