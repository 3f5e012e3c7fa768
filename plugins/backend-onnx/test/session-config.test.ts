/**
 * Session config entries: pool threads stop spinning when a run returns unless
 * `idleSpin` asks for onnxruntime's default, and the entries share one
 * `extra.session` object (two spreads of `extra` would replace each other).
 * A session built with either setting runs. onnxruntime's memory pattern is
 * off unless `allocation: planned` asks for it, for that session only, which
 * compiles a session of its own and computes the same values, in-thread and
 * in the worker.
 */
import { Graph, hostTensor, neg, toFloat64, type BackendService, type Executable } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { sessionConfig, sessionOptions } from "../src/runtime/providers.ts"
import { withBackend } from "./support/run.ts"

/** y = −x over [3] floats. */
const negProgram = () => {
  const g = new Graph()
  g.output("y", neg(g.input("x", "float32", [3])))
  return g.build()
}

/** Runs a compiled negProgram on [1, −2, 3] and reads y. */
const runNeg = (backend: BackendService, exe: Executable) =>
  Effect.map(Effect.flatMap(backend.run(exe, { x: hostTensor("float32", [3], [1, -2, 3]) }), (out) => backend.download(out.y!)), (y) => Array.from(toFloat64(y)))

describe("session config", () => {
  it("stops idle spinning by default, keeps it on request, and combines with disable_prepacking", () => {
    expect(sessionConfig({ provider: "cpu", threads: 2 })).toEqual({ force_spinning_stop: "1" })
    expect(sessionConfig({ provider: "cpu", threads: 2, idleSpin: true })).toEqual({})
    expect(sessionConfig({ provider: "cpu", threads: 2, disablePrepacking: true })).toEqual({ disable_prepacking: "1", force_spinning_stop: "1" })
  })

  it("a bundle whose mapped weights are used as they are turns pre-packing and constant folding off for its session only", () => {
    const settings = { provider: "cpu" as const, threads: 2 }
    const asIs = sessionOptions("cpu", settings, { bytes: new Uint8Array(), externalData: [], folder: "/cache", mappedAsIs: true }, []).extra
    expect(asIs).toEqual({ session: { force_spinning_stop: "1", model_external_initializers_file_folder_path: "/cache", disable_prepacking: "1" }, optimization: { disable_specified_optimizers: "ConstantFolding" } })
    expect(sessionOptions("cpu", settings, { bytes: new Uint8Array(), externalData: [], folder: "/cache" }, []).extra).toEqual({ session: { force_spinning_stop: "1", model_external_initializers_file_folder_path: "/cache" } })
  })

  it("a bundle with overridable initializers (constants read as they are beside pre-packed ones) keeps pre-packing on and logs errors only (onnxruntime warns of each such initializer)", () => {
    const settings = { provider: "cpu" as const, threads: 2 }
    const overridable = sessionOptions("cpu", settings, { bytes: new Uint8Array(), externalData: [], folder: "/cache", overridableInitializers: true }, [])
    expect(overridable.logSeverityLevel).toBe(3)
    expect(overridable.extra).toEqual({ session: { force_spinning_stop: "1", model_external_initializers_file_folder_path: "/cache" } })
    expect(sessionOptions("cpu", settings, { bytes: new Uint8Array(), externalData: [], folder: "/cache" }, []).logSeverityLevel).toBe(2)
  })

  it("sessions run with either setting", async () => {
    const program = negProgram()
    for (const idleSpin of [false, true]) {
      const y = await withBackend((backend) => Effect.flatMap(backend.compile(program, {}), (exe) => runNeg(backend, exe)), { idleSpin, threads: 2 })
      expect(y).toEqual([-1, 2, -3])
    }
  })

  it("allocation: per-tensor by default (no memory pattern); planned gets its own session and the same values", async () => {
    const bundle = { bytes: new Uint8Array(), externalData: [] }
    expect(sessionOptions("cpu", { provider: "cpu", threads: 2 }, bundle, []).enableMemPattern).toBe(false)
    expect(sessionOptions("cpu", { provider: "cpu", threads: 2, memoryPattern: true }, bundle, []).enableMemPattern).toBe(true)
    const program = negProgram()
    for (const worker of [false, true]) {
      const got = await withBackend((backend) =>
        Effect.gen(function* () {
          const planned = yield* backend.compile(program, { allocation: "planned" })
          const perTensor = yield* backend.compile(program, {})
          return { keys: [planned.key, perTensor.key], values: [yield* runNeg(backend, planned), yield* runNeg(backend, perTensor)] }
        }), { worker })
      expect(got.keys[0]).not.toBe(got.keys[1])
      expect(got.values).toEqual([[-1, 2, -3], [-1, 2, -3]])
    }
  })
})
