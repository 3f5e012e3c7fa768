/**
 * Which execution provider the benchmarks run on and where they write, from the environment,
 * so `gpu-check` can run the same benchmarks on cuda and webgpu without touching the CPU
 * results: `REFINE_AF_BENCH_PROVIDER` (cpu | cuda | webgpu, default cpu) and
 * `REFINE_AF_BENCH_OUT` (the JSON file to write instead of the default).
 */
import { execFileSync, spawn, type SpawnOptions } from "node:child_process"
import { readFileSync } from "node:fs"
import * as path from "node:path"
import { Graph, sum, type BackendError, type BackendService } from "@refine-af/tensor"
import { Effect } from "effect"

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

/** Best of ten copies of a 256 MiB buffer, in GB/s (bytes read + written per second). Self-contained: it also runs as a child's script. */
const copyBandwidth = (): number => {
  const source = new Float32Array(64 * 1024 * 1024).fill(1)
  const target = new Float32Array(source.length).fill(0)
  let best = Infinity
  for (let i = 0; i < 10; i++) {
    const start = performance.now()
    target.set(source)
    best = Math.min(best, (performance.now() - start) / 1000)
  }
  return (2 * source.byteLength) / best / 1e9
}

/** This process's environment without the benchmarks' malloc tuning (glibc's defaults, as `refine-af run` gets). */
export const defaultMallocEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env["MALLOC_MMAP_THRESHOLD_"]
  delete env["MALLOC_TRIM_THRESHOLD_"]
  return env
}

/**
 * Copy bandwidth in GB/s: a decode roofline's denominator. Measured in a
 * fresh Node process with glibc's default malloc settings: with the large
 * `MALLOC_MMAP_THRESHOLD_` the benchmarks run under, 256 MiB buffers come
 * from the brk heap instead of fresh mappings and the same copy measured
 * 3.5x lower (9.5 vs 33 GB/s), which would flatter every roofline fraction.
 */
export const memoryBandwidth = (): number => {
  const env = defaultMallocEnv()
  try {
    const measured = Number(execFileSync(process.execPath, ["-e", `process.stdout.write(String((${copyBandwidth.toString()})()))`], { encoding: "utf8", timeout: 60_000, env }))
    if (Number.isFinite(measured) && measured > 0) return measured
  } catch {
    // no child process: measure here
  }
  return copyBandwidth()
}

/**
 * What the backend's kernels read per second (GB/s): a row-wise sum over a
 * 256 MiB float32 tensor held by the backend, best of ten runs, with the
 * backend's own threads. A decode step only reads its weights, so this is
 * the decode roofline's denominator on any provider (on a GPU it measures
 * device memory).
 */
export const backendReadBandwidth = (backend: BackendService): Effect.Effect<number, BackendError> =>
  Effect.gen(function* () {
    const shape = [16384, 4096]
    const g = new Graph()
    g.output("y", sum(g.input("x", "float32", shape), [1]))
    const exe = yield* backend.compile(g.build(), {})
    const x = yield* backend.upload({ dtype: "float32", shape, data: new Float32Array(shape[0]! * shape[1]!).fill(1) })
    let best = Infinity
    for (let i = 0; i < 10; i++) {
      const start = performance.now()
      const out = yield* backend.run(exe, { x })
      yield* backend.download(out.y!)
      best = Math.min(best, (performance.now() - start) / 1000)
      yield* backend.release(out.y!)
    }
    yield* backend.release(x)
    return (shape[0]! * shape[1]! * 4) / best / 1e9
  })

/** Resident and peak resident memory (VmRSS, VmHWM) of this process in bytes, and its anonymous and file-backed parts (RssAnon, RssFile), from /proc (Linux). */
export const processMemory = (): { readonly rss: number; readonly peak: number; readonly anon: number; readonly file: number } => {
  const status = readFileSync("/proc/self/status", "utf8")
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024
  return { rss: kib("VmRSS"), peak: kib("VmHWM"), anon: kib("RssAnon"), file: kib("RssFile") }
}

/** A process's PSS from its smaps_rollup (`self`: this one), anonymous and file-backed apart, bytes (0 where a field is missing). */
export const pssRollup = (pid: number | "self" = "self"): { readonly pss: number; readonly anon: number; readonly file: number } => {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8")
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0) * 1024
  return { pss: kib("Pss"), anon: kib("Pss_Anon"), file: kib("Pss_File") }
}

/** This process's PSS by mapped file's base name, MiB (anonymous and special mappings under `[anon]`), largest first. */
export const pssByFile = (): Record<string, number> => {
  const sums = new Map<string, number>()
  let current = "[anon]"
  for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line)
    if (header !== null) {
      const path = header[1]!.trim()
      current = path.startsWith("/") ? path.split("/").pop()! : "[anon]"
      continue
    }
    const pss = /^Pss:\s+(\d+) kB/.exec(line)
    if (pss !== null) sums.set(current, (sums.get(current) ?? 0) + Number(pss[1]) / 1024)
  }
  return Object.fromEntries([...sums].filter(([, mib]) => mib >= 1).sort((a, b) => b[1] - a[1]).map(([name, mib]) => [name, Math.round(mib)]))
}

/**
 * Runs a benchmark child process and samples its resident memory every 10 ms from outside
 * (/proc/<pid>/status): the peaks of its anonymous memory (heap, onnxruntime's
 * buffers: what the system cannot reclaim) and of its file-backed pages
 * (mapped files, e.g. weights onnxruntime maps from the quantised-weight cache:
 * clean pages the kernel can drop and read again), and of its proportional set
 * size (PSS: a page mapped by several sessions counted once; read far less
 * often, its cost returned as `sampler`), next to VmHWM, which counts both
 * kinds (and a page mapped twice twice). The highest PSS reading comes with its
 * anonymous and file-backed parts and its time (`atPssPeak`), and every PSS
 * reading in order (`series`), so a transient peak can be told from a plateau.
 * `pssEveryMs` reads PSS at that fixed pace instead, whatever it costs: for a
 * run that measures memory only (at 7B a reading takes ~80 ms, so the default
 * pace reads every ~4 s and misses a peak that lasts a second or two).
 */
export const sampled = (command: string, args: ReadonlyArray<string>, options: SpawnOptions, sampling: { readonly pssEveryMs?: number } = {}) =>
  new Promise<{ stdout: string; peaks: { anon: number; file: number; rss: number; pss: number }; atPssPeak: PssReading; series: ReadonlyArray<PssReading>; sampler: SamplerCost }>((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "inherit"] })
    const peaks = { anon: 0, file: 0, rss: 0, pss: 0 }
    // Every PSS reading, in order, split into anonymous and file-backed pages, with when it was read (ms since epoch, so
    // a child's phase marks taken with Date.now() place it): the highest is the PSS peak, its neighbours say if transient.
    const series: Array<PssReading> = []
    const started = performance.now()
    const cost = { pssReads: 0, pssSeconds: 0 }
    let pssDue = 0
    const timer = setInterval(() => {
      try {
        const kib = (text: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8")
        peaks.anon = Math.max(peaks.anon, kib(status, "RssAnon"))
        peaks.file = Math.max(peaks.file, kib(status, "RssFile"))
        peaks.rss = Math.max(peaks.rss, kib(status, "VmRSS"))
        // PSS counts a page mapped by several sessions once (RSS once per mapping). Reading it walks every page table
        // of the child: ~0.1 ms for /proc/<pid>/status, 83 ms for smaps_rollup with 14 GiB mapped (session 24). Read
        // every 50 ms, as before session 24, that kept a core of this 2-core VM busy beside a 2-thread decode (7B int4
        // batch 1: 2.3-2.4 tok/s sampled, 3.8 unsampled), so the next read waits 50 times as long as the last took
        // (at most ~2% of one core); a peak shorter than that gap can be missed.
        const now = performance.now()
        if (now >= pssDue) {
          series.push({ at: Date.now(), ...pssRollup(child.pid!) })
          const took = performance.now() - now
          cost.pssReads += 1
          cost.pssSeconds += took / 1000
          pssDue = now + (sampling.pssEveryMs ?? Math.max(50, 50 * took))
        }
      } catch {
        // the process is gone: the exit handler reports
      }
    }, 10)
    let stdout = ""
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => {
      clearInterval(timer)
      const sampler = { ...cost, wallSeconds: (performance.now() - started) / 1000 }
      const atPssPeak = highestPss(series) ?? { at: 0, pss: 0, anon: 0, file: 0 }
      peaks.pss = atPssPeak.pss
      code === 0 ? resolve({ stdout, peaks, atPssPeak, series, sampler }) : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`))
    })
  })

/** The first of the highest PSS readings, undefined for none. */
export const highestPss = (readings: ReadonlyArray<PssReading>): PssReading | undefined =>
  readings.reduce<PssReading | undefined>((best, reading) => (best === undefined || reading.pss > best.pss ? reading : best), undefined)

/**
 * `--pss-every <ms>` of a benchmark's command line (default 250 when given without a number): the fixed pace for
 * {@link sampled}'s PSS readings, undefined when absent.
 */
export const pssEveryArg = (argv: ReadonlyArray<string> = process.argv): number | undefined => {
  const i = argv.indexOf("--pss-every")
  return i < 0 ? undefined : Number(argv[i + 1] ?? "250")
}

/** {@link sampled}'s highest PSS reading (bytes): its anonymous and file-backed parts, and when it was read (ms since epoch). */
export interface PssReading {
  readonly at: number
  readonly pss: number
  readonly anon: number
  readonly file: number
}

/** What {@link sampled}'s PSS readings cost: how many, their total time and the child's wall time (seconds). */
export interface SamplerCost {
  readonly pssReads: number
  readonly pssSeconds: number
  readonly wallSeconds: number
}
