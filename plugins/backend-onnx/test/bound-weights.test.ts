/**
 * `CompileOptions.weights` on onnxruntime: the tensor package's bound-weights
 * conformance in this thread and in the worker thread, with and without the
 * memory arena and pre-packing.
 */
import { boundWeightsConformance } from "@refine-af/tensor"
import { describe, expect, it } from "vitest"
import { withBackend } from "./support/run.ts"

describe("bound (shared) weights", () => {
  it.each([
    ["in-thread", {}],
    ["worker thread", { worker: true }],
    ["no arena, no pre-packing", { cpuMemArena: false, disablePrepacking: true }]
  ])("pass the bound-weights conformance (%s)", async (_name, settings) => {
    const problems = await withBackend(boundWeightsConformance, settings)
    expect(problems).toEqual([])
  }, 60_000)
})
