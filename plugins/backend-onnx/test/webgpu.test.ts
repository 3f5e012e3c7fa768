/**
 * The conformance suite on the WebGPU provider. Needs a Vulkan driver; on a
 * machine without a GPU use Mesa lavapipe (see README):
 *   tools/lavapipe/run-webgpu-conformance.sh
 * Skipped (with the reason printed) unless REFINE_AF_WEBGPU=1.
 */
import { add, Graph, hostTensor, logSoftmax, matmul, mul, runConformance, softmax, toFloat64 } from "@refine-af/tensor"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeConformanceAdapter } from "./support/conformance-adapter.ts"
import { cpuExpectedFailures } from "./support/expected-failures.ts"
import { webgpuExpectedFailures } from "./support/expected-failures-webgpu.ts"
import { withBackend } from "./support/run.ts"

const enabled = process.env["REFINE_AF_WEBGPU"] === "1"
if (!enabled) console.log("webgpu tests skipped: set REFINE_AF_WEBGPU=1 with a Vulkan driver (tools/lavapipe/run-webgpu-conformance.sh)")

describe.runIf(enabled)("conformance on the webgpu provider", () => {
  let adapter: Awaited<ReturnType<typeof makeConformanceAdapter>>
  let fellBack: string | undefined
  beforeAll(async () => {
    adapter = await makeConformanceAdapter({ provider: "webgpu" }, (_, reason) => (fellBack = reason))
  })
  afterAll(() => adapter?.close())

  it("passes the forward and gradient cases (known provider gaps are expected failures)", async () => {
    const report = await runConformance(adapter.run, {
      dtype: "float32",
      perOp: 10,
      tolerance: 1e-5,
      expectedFailures: { ...cpuExpectedFailures, ...webgpuExpectedFailures }
    })
    expect(fellBack, "the webgpu provider did not start").toBeUndefined()
    const byOp = new Map<string, { pass: number; fail: number }>()
    for (const r of report.results) {
      const entry = byOp.get(r.op) ?? { pass: 0, fail: 0 }
      if (r.status === "pass" || r.status === "unexpected-pass") entry.pass++
      else entry.fail++
      byOp.set(r.op, entry)
    }
    console.log([...byOp].map(([op, c]) => `${op}: ${c.pass}/${c.pass + c.fail}`).join("\n"))
    expect(report.failures.map((f) => `${f.id}: ${f.detail}`)).toEqual([])
  }, 600_000)

  it("a program with outputs kept on the device runs when asked for some of its outputs only", async () => {
    // onnxruntime-node refuses a run that fetches fewer than all outputs of a session with preferred output locations
    // ("Output count mismatch."): the device-cache decode step sampling at temperature 1 asked for its logits only.
    const g = new Graph()
    const s = g.input("s", "float32", [4])
    g.output("s", add(s, s))
    g.output("t", add(s, 1))
    g.output("u", s)
    const program = g.build()
    const got = await withBackend(
      (backend) =>
        Effect.gen(function* () {
          const exe = yield* backend.compile(program, { keepOnDevice: ["s"] })
          const first = yield* backend.run(exe, { s: hostTensor("float32", [4], [1, 2, 3, 4]) }, { outputs: ["s", "t"] })
          const second = yield* backend.run(exe, { s: first.s! }, { outputs: ["t"] })
          return { keys: [Object.keys(first).sort(), Object.keys(second)], t: Array.from(toFloat64(yield* backend.download(second.t!))), device: exe.device }
        }),
      { provider: "webgpu" }
    )
    expect(got.device).toBe("webgpu")
    expect(got.keys).toEqual([["s", "t"], ["t"]])
    expect(got.t).toEqual([3, 5, 7, 9])
  })

  it("upload puts a tensor in GPU memory once: bound as a weight by two programs, downloaded unchanged", async () => {
    const program = (scale: number) => {
      const g = new Graph()
      const x = g.input("x", "float32", [2, 3])
      g.output("y", mul(add(x, g.parameter("w", "float32", [2, 3], { trainable: false })), scale))
      return g.build()
    }
    const w = hostTensor("float32", [2, 3], [1, 2, 3, 4, 5, 6])
    const got = await withBackend(
      (backend) =>
        Effect.gen(function* () {
          const weight = yield* backend.upload(w)
          const x = hostTensor("float32", [2, 3], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
          const ys: Array<Array<number>> = []
          for (const scale of [1, 2]) {
            const exe = yield* backend.compile(program(scale), { weights: { w: weight } })
            ys.push(Array.from(toFloat64(yield* backend.download((yield* backend.run(exe, { x })).y!))))
          }
          return { location: weight.location, back: Array.from(toFloat64(yield* backend.download(weight))), ys }
        }),
      { provider: "webgpu" }
    )
    expect(got.location).toBe("device")
    expect(got.back).toEqual([1, 2, 3, 4, 5, 6])
    expect(got.ys).toEqual([[1.5, 2.5, 3.5, 4.5, 5.5, 6.5], [3, 5, 7, 9, 11, 13]])
  })

  it("a scoring-shaped program (matmul, softmax, log-softmax) runs every float node on WebGPU, none on the CPU", async () => {
    // onnxruntime places a node its WebGPU provider has no kernel for on the CPU and copies its inputs to the host and
    // back every run: LogSoftmax was one (the [batch, length, vocab] logits of every scoring and training step).
    const folder = mkdtempSync(nodePath.join(tmpdir(), "refine-af-webgpu-placement-"))
    try {
      const g = new Graph()
      const h = g.input("h", "float32", [2, 3, 8])
      const w = g.parameter("w", "float32", [8, 16], { trainable: false })
      const logits = matmul(h, w)
      g.output("logp", logSoftmax(logits, -1))
      g.output("p", softmax(logits, -1))
      const program = g.build()
      const values = (n: number, phase: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + phase))
      const logProbsOn = (settings: Parameters<typeof withBackend>[1]) =>
        withBackend((backend) => Effect.gen(function* () {
          const exe = yield* backend.compile(program, { constants: { w: hostTensor("float32", [8, 16], values(128, 1)) } })
          return Array.from(toFloat64(yield* backend.download((yield* backend.run(exe, { h: hostTensor("float32", [2, 3, 8], values(48, 2)) })).logp!)))
        }), settings)
      const [gpu, cpu] = await Promise.all([logProbsOn({ provider: "webgpu", profilePrefix: nodePath.join(folder, "p") }), logProbsOn({ provider: "cpu" })])
      expect(Math.max(...gpu.map((v, i) => Math.abs(v - cpu[i]!)))).toBeLessThan(1e-5)
      const placed: Array<string> = []
      for (const file of readdirSync(folder).filter((f) => f.endsWith(".json"))) {
        const events = JSON.parse(readFileSync(nodePath.join(folder, file), "utf8")) as Array<{ cat?: string; name: string; args?: { op_name?: string; provider?: string; output_type_shape?: Array<Record<string, unknown>> } }>
        for (const e of events) {
          if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || e.args?.provider !== "CPUExecutionProvider") continue
          if ((e.args.output_type_shape ?? []).some((o) => "float" in o)) placed.push(e.args.op_name ?? e.name)
        }
      }
      expect(placed).toEqual([])
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })

  it("keeps outputs in GPU memory between runs and reads them back", async () => {
    const g = new Graph()
    const s = g.input("s", "float32", [4])
    g.output("s", add(s, s))
    const program = g.build()
    const { location, values, device } = await withBackend(
      (backend) =>
        Effect.gen(function* () {
          const exe = yield* backend.compile(program, { keepOnDevice: ["s"] })
          const once = yield* backend.run(exe, { s: hostTensor("float32", [4], [1, 2, 3, 4]) })
          const twice = yield* backend.run(exe, { s: once.s! })
          return { location: twice.s!.location, values: Array.from(toFloat64(yield* backend.download(twice.s!))), device: exe.device }
        }),
      { provider: "webgpu" }
    )
    expect(device).toBe("webgpu")
    expect(location).toBe("device")
    expect(values).toEqual([4, 8, 12, 16])
  })
})
