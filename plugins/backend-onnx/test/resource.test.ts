import type { EventSink } from "@refine-af/core"
import { Graph, hostTensor, relu, toFloat64 } from "@refine-af/tensor"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import plugin, { OnnxResourceOptions, onnxResource } from "../src/index.ts"

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

/** Builds the resource from recipe options and runs relu([-1, 0, 2]) on it. */
const runWith = (options: unknown, warnings: Array<string>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const decoded = yield* Schema.decodeUnknownEffect(OnnxResourceOptions)(options)
        const backend = yield* onnxResource.make({ name: "compute", options: decoded, seed: 0, uses: {}, events: collectingEvents(warnings) })
        const exe = yield* backend.compile(reluProgram())
        const out = yield* backend.run(exe, { x: hostTensor("float32", [3], [-1, 0, 2]) })
        return { device: exe.device, y: Array.from(toFloat64(yield* backend.download(out.y!))) }
      })
    )
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

  it.each(["cuda", "webgpu"] as const)("falls back to cpu with a warning event when the %s provider cannot start", async (provider) => {
    const warnings: Array<string> = []
    const result = await runWith({ provider, threads: 1 }, warnings)
    expect(result.y).toEqual([0, 0, 2])
    if (result.device === provider) {
      console.log(`${provider} provider available here: no fallback to observe`)
      expect(warnings).toEqual([])
    } else {
      expect(result.device).toBe("cpu")
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(new RegExp(`compute: execution provider "${provider}" failed to start .*running on cpu instead`))
    }
  })

  it("rejects an unknown provider when the recipe is decoded", () => {
    expect(() => Schema.decodeUnknownSync(OnnxResourceOptions)({ provider: "tpu" })).toThrow()
  })
})
