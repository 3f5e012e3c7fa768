/**
 * The conformance suite on the CUDA provider. Needs an NVIDIA GPU and onnxruntime's CUDA
 * libraries (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`); run by
 * `tools/gpu-check/gpu-check.ts`. Skipped (with the reason printed) unless REFINE_AF_CUDA=1.
 */
import { runConformance } from "@refine-af/tensor"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { checkProvider } from "../src/index.ts"
import { makeConformanceAdapter } from "./support/conformance-adapter.ts"
import { cpuExpectedFailures } from "./support/expected-failures.ts"

const enabled = process.env["REFINE_AF_CUDA"] === "1"
if (!enabled) console.log("cuda tests skipped: set REFINE_AF_CUDA=1 on an NVIDIA machine with the CUDA provider installed (tools/gpu-check)")

describe.runIf(enabled)("conformance on the cuda provider", () => {
  let adapter: Awaited<ReturnType<typeof makeConformanceAdapter>>
  let fellBack: string | undefined
  beforeAll(async () => {
    const problem = await checkProvider("cuda")
    if (problem !== undefined) throw new Error(`cuda is not available: missing ${problem.missing}; ${problem.install}`)
    adapter = await makeConformanceAdapter({ provider: "cuda" }, (_, reason) => (fellBack = reason))
  })
  afterAll(() => adapter?.close())

  it("passes the forward and gradient cases at fp32 / 1e-5 (CPU's known gaps are expected failures)", async () => {
    const report = await runConformance(adapter.run, { dtype: "float32", perOp: 10, tolerance: 1e-5, expectedFailures: cpuExpectedFailures })
    expect(fellBack, "the cuda provider did not start").toBeUndefined()
    expect(report.failures.map((f) => `${f.id}: ${f.detail}`)).toEqual([])
  }, 600_000)
})
