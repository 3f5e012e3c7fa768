import { readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { describe, expect, it } from "vitest"
import { highestPss, pssByFile, pssEveryArg, sampled } from "./bench-env.ts"

// Both read /proc/<pid>/smaps(_rollup): Linux only.
const linux = process.platform === "linux"
if (!linux) console.log(`bench-env tests skipped: /proc/<pid>/smaps is Linux's (this is ${process.platform})`)

const MiB = 2 ** 20

describe.skipIf(!linux)("benchmark memory readings (tools/gpu-check/bench-env.ts)", () => {
  it("pssByFile attributes this process's PSS to its mapped files and anonymous memory", () => {
    const held = Buffer.alloc(96 * MiB, 1)
    const byFile = pssByFile()
    const total = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync("/proc/self/smaps_rollup", "utf8"))![1]) / 1024
    // The buffer just touched is anonymous memory; the executable is a mapped file of its own name.
    expect(byFile["[anon]"]).toBeGreaterThanOrEqual(96)
    expect(Object.keys(byFile)).toContain(nodePath.basename(process.execPath))
    // Entries under 1 MiB are left out and each is rounded to whole MiB: the sum is at most the process's PSS plus a
    // MiB per entry, and most of it.
    const sum = Object.values(byFile).reduce((a, b) => a + b, 0)
    expect(sum).toBeLessThanOrEqual(total + Object.keys(byFile).length)
    expect(sum).toBeGreaterThan(total * 0.8)
    expect(held[held.length - 1]).toBe(1)
  })

  it("sampled finds a child's transient peak, its anonymous part and when it was read", async () => {
    // 160 MiB touched, held for three seconds (the sampler reads PSS at least every 50 ms, less often where a read
    // is slow: 50 times its duration), then released with the process.
    const child = "const b = Buffer.alloc(160 * 2 ** 20, 1); setTimeout(() => process.stdout.write(String(b[5])), 3000)"
    const started = Date.now()
    const out = await sampled(process.execPath, ["-e", child], {})
    expect(out.stdout.trim()).toBe("1")
    expect(out.peaks.pss).toBeGreaterThanOrEqual(160 * MiB)
    expect(out.atPssPeak.pss).toBe(out.peaks.pss)
    expect(out.atPssPeak.anon).toBeGreaterThanOrEqual(160 * MiB)
    expect(out.atPssPeak.anon + out.atPssPeak.file).toBeLessThanOrEqual(out.atPssPeak.pss + MiB)
    expect(out.atPssPeak.at).toBeGreaterThanOrEqual(started)
    // Every reading in order, the peak among them.
    expect(out.series.length).toBeGreaterThan(1)
    expect(out.series.every((r, i) => i === 0 || r.at >= out.series[i - 1]!.at)).toBe(true)
    expect(out.series).toContainEqual(out.atPssPeak)
  })

  it("sampled reads PSS at a fixed pace when asked (pssEveryMs)", async () => {
    // A small child reads in well under a millisecond, so the default pace would read every 50 ms.
    const child = "const b = Buffer.alloc(32 * 2 ** 20, 1); setTimeout(() => process.stdout.write(String(b[5])), 1500)"
    const out = await sampled(process.execPath, ["-e", child], {}, { pssEveryMs: 300 })
    expect(out.stdout.trim()).toBe("1")
    const gaps = out.series.slice(1).map((r, i) => r.at - out.series[i]!.at)
    expect(gaps.length).toBeGreaterThanOrEqual(2)
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(295)
    expect(out.series.length).toBeLessThanOrEqual(8)
  })

  it("highestPss gives the first of the highest readings; pssEveryArg reads --pss-every", () => {
    const at = (t: number, pss: number) => ({ at: t, pss, anon: 0, file: pss })
    expect(highestPss([at(1, 5), at(2, 9), at(3, 9), at(4, 2)])).toEqual(at(2, 9))
    expect(highestPss([])).toBeUndefined()
    expect(pssEveryArg(["node", "bench.ts", "--model", "7b", "--pss-every", "100"])).toBe(100)
    expect(pssEveryArg(["node", "bench.ts", "--pss-every"])).toBe(250)
    expect(pssEveryArg(["node", "bench.ts", "--model", "7b"])).toBeUndefined()
  })
})
