import type { EventSink } from "@refine-af/core"
import { Graph, hostTensor, mul, relu, toFloat64 } from "@refine-af/tensor"
import { Cause, Effect, Exit, Schema } from "effect"
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import plugin, { checkProvider, OnnxResourceOptions, onnxResource, providerFilesProblem } from "../src/index.ts"

const collectingEvents = (warnings: Array<string>): EventSink => ({
  progress: () => Effect.void,
  metric: () => Effect.void,
  warn: (message) => Effect.sync(() => void warnings.push(message)),
  emit: () => Effect.void
})

const reluProgram = () => {
  const g = new Graph()
  g.output("y", relu(g.input("x", "float32", [3])))
  return g.build()
}

const scaledRelu = (factor: number) => {
  const g = new Graph()
  g.output("y", mul(relu(g.input("x", "float32", [3])), factor))
  return g.build()
}

/** Builds the resource from recipe options and runs relu([-1, 0, 2]) on it. */
const runWith = (options: unknown, warnings: Array<string>, compiles = 1) => Effect.runPromise(runEffect(options, warnings, compiles))

const runEffect = (options: unknown, warnings: Array<string>, compiles = 1) =>
    Effect.scoped(
      Effect.gen(function* () {
        const decoded = yield* Schema.decodeUnknownEffect(OnnxResourceOptions)(options)
        const backend = yield* onnxResource.make({ name: "compute", options: decoded, seed: 0, uses: {}, events: collectingEvents(warnings) })
        for (let extra = 1; extra < compiles; extra++) yield* backend.compile(scaledRelu(extra))
        const exe = yield* backend.compile(reluProgram())
        const out = yield* backend.run(exe, { x: hostTensor("float32", [3], [-1, 0, 2]) })
        return { device: exe.device, y: Array.from(toFloat64(yield* backend.download(out.y!))) }
      })
    )

describe("backend-onnx/onnx resource", () => {
  it("is the plugin's `onnx` component", () => {
    expect(plugin.name).toBe("backend-onnx")
    expect(plugin.components["onnx"]).toBe(onnxResource)
  })

  it("runs on the cpu provider without warnings", async () => {
    const warnings: Array<string> = []
    expect(await runWith({ provider: "cpu", threads: 1 }, warnings)).toEqual({ device: "cpu", y: [0, 0, 2] })
    expect(warnings).toEqual([])
  })

  it.each(["cuda", "webgpu"] as const)("an unavailable %s provider is an error naming what is missing and how to install it", async (provider) => {
    const problem = await checkProvider(provider)
    if (problem === undefined) {
      console.log(`${provider} provider available here: no unavailability to observe`)
      return
    }
    const warnings: Array<string> = []
    const exit = await Effect.runPromiseExit(runEffect({ provider, threads: 1 }, warnings))
    const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) as { _tag?: string; message?: string; fix?: string } : undefined
    expect(error?._tag).toBe("StageError")
    expect(error?.message).toContain(`execution provider "${provider}" is not available: missing ${problem.missing}`)
    expect(error?.fix).toBe(problem.install)
    if (provider === "cuda") expect(error?.fix).toContain("ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node")
    expect(warnings).toEqual([])
  })

  it.each(["cuda", "webgpu"] as const)("fallback: cpu runs an unavailable %s provider on the CPU with exactly one warning", async (provider) => {
    const problem = await checkProvider(provider)
    if (problem === undefined) {
      console.log(`${provider} provider available here: no fallback to observe`)
      return
    }
    const warnings: Array<string> = []
    const result = await runWith({ provider, fallback: "cpu", threads: 1 }, warnings, 3)
    expect(result).toEqual({ device: "cpu", y: [0, 0, 2] })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(`compute: execution provider "${provider}" is not available: missing ${problem.missing}; running on cpu (fallback: cpu)`)
  })

  it("prints no native onnxruntime log blocks when cuda libraries are absent", () => {
    if (providerFilesProblem("cuda") === undefined) {
      console.log("cuda provider libraries installed here: nothing to observe")
      return
    }
    const child = spawnSync(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "support/make-cuda-resource.ts")], { encoding: "utf8" })
    expect(child.status, child.stderr).toBe(0)
    expect(child.stdout).toContain("warnings: 1")
    expect(child.stderr).not.toContain("Failed to load library")
    expect(child.stderr).not.toContain("onnxruntime")
  })

  it("rejects an unknown provider when the recipe is decoded", () => {
    expect(() => Schema.decodeUnknownSync(OnnxResourceOptions)({ provider: "tpu" })).toThrow()
  })
})
