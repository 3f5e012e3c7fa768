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

/** Copy bandwidth in GB/s (bytes read + written per second), best of several 256 MiB copies: the decode roofline's denominator. */
export const memoryBandwidth = (): number => {
  const source = new Float32Array(64 * 1024 * 1024).fill(1)
  const target = new Float32Array(source.length)
  let best = Infinity
  for (let i = 0; i < 6; i++) {
    const start = performance.now()
    target.set(source)
    best = Math.min(best, (performance.now() - start) / 1000)
  }
  return (2 * source.byteLength) / best / 1e9
}
