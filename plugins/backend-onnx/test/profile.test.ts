/** onnxruntime's profiler through the backend settings: each session writes a chrome-trace file when the backend closes. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Graph, hostTensor, matmul, tanh } from "@refine-af/tensor"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { withBackend } from "./support/run.ts"

const folder = mkdtempSync(path.join(tmpdir(), "refine-af-ort-profile-"))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

const runOnce = (settings: { profilePrefix?: string; worker?: boolean }) =>
  withBackend((backend) =>
    Effect.gen(function* () {
      const g = new Graph()
      const x = g.input("x", "float32", [4, 4])
      g.output("y", tanh(matmul(x, x)))
      const exe = yield* backend.compile(g.build())
      for (let i = 0; i < 3; i++) {
        const out = yield* backend.run(exe, { x: hostTensor("float32", [4, 4], Array.from({ length: 16 }, (_, k) => k / 16)) })
        yield* backend.release(out.y!)
      }
    }), settings)

describe("onnxruntime profiles", () => {
  it.each([false, true])("writes one profile per session with every run's kernels (worker %s), and none without a prefix", async (worker) => {
    const prefix = path.join(folder, `run-${worker}`)
    await runOnce({ profilePrefix: prefix, worker })
    const files = readdirSync(folder).filter((f) => f.startsWith(`run-${worker}_`) && f.endsWith(".json"))
    expect(files.length).toBe(1)
    const events = JSON.parse(readFileSync(path.join(folder, files[0]!), "utf8")) as Array<{ cat?: string; name: string; args?: { op_name?: string } }>
    expect(events.filter((e) => e.cat === "Session" && e.name === "model_run").length).toBe(3)
    const ops = new Set(events.filter((e) => e.cat === "Node").map((e) => e.args?.op_name))
    expect(ops.has("MatMul") || ops.has("FusedMatMul") || ops.has("Gemm")).toBe(true)
    expect(ops.has("Tanh")).toBe(true)
    const before = readdirSync(folder).length
    await runOnce({ worker })
    expect(readdirSync(folder).length).toBe(before)
  })
})
