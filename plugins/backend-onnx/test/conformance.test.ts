/**
 * The tensor conformance suite (seeded random cases per op, forward and
 * gradient programs) on onnxruntime's CPU provider, float32, against the
 * float64 interpreter at relative error ≤ 1e-5.
 */
import { runConformance } from "@refine-af/tensor"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeConformanceAdapter } from "./support/conformance-adapter.ts"
import { cpuExpectedFailures } from "./support/expected-failures.ts"

let adapter: Awaited<ReturnType<typeof makeConformanceAdapter>>
beforeAll(async () => {
  adapter = await makeConformanceAdapter()
})
afterAll(() => adapter.close())

describe("conformance on the cpu provider", () => {
  it("passes every op's forward and gradient cases (known gaps are expected failures)", async () => {
    const report = await runConformance(adapter.run, { dtype: "float32", perOp: 10, tolerance: 1e-5, expectedFailures: cpuExpectedFailures })
    const byStatus = (s: string) => report.results.filter((r) => r.status === s).length
    console.log(`cpu conformance: ${byStatus("pass")} pass, ${byStatus("expected-fail")} expected-fail, ${report.failures.length} failures of ${report.results.length}`)
    expect(report.failures.map((f) => `${f.id}: ${f.detail}`)).toEqual([])
    expect(report.results.length).toBeGreaterThan(100)
  }, 120_000)
})
