/**
 * The float16 host-tensor conversions of the Backend contract
 * (`numberToFloat16` / `float16ToNumber`) against onnxruntime's own Cast
 * kernel, an independent implementation of IEEE half rounding.
 */
import { float16ToNumber, Graph, hostTensor, numberToFloat16, Rng } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { withBackend } from "./support/run.ts"

const edgeValues = [0, -0, 1, -1, 65504, 65519, 65520, 1e6, -1e6, 6.1e-5, 5.96e-8, 2.98e-8, 2.99e-8, 1e-9, 0.1, 1 / 3, 2049, 2051, Infinity, -Infinity]

const samples = (): Array<number> => {
  const rng = new Rng(7)
  const values = [...edgeValues]
  for (let i = 0; i < 4000; i++) values.push(Math.fround((rng.next() - 0.5) * 2 ** rng.int(-30, 17)))
  return values
}

describe("float16 conversion", () => {
  it("rounds float32 → float16 bit-exactly like onnxruntime's Cast", async () => {
    const values = samples()
    const g = new Graph()
    g.output("h", g.apply("Cast", [g.input("x", "float32", [values.length])], { to: "float16" }))
    const program = g.build()
    const bits = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program)
        const out = yield* backend.run(exe, { x: hostTensor("float32", [values.length], values) })
        return (yield* backend.download(out.h!)).data as Uint16Array
      })
    )
    const mismatches = values.flatMap((v, i) => (numberToFloat16(v) === bits[i] ? [] : [`${v}: ours ${numberToFloat16(v)} ort ${bits[i]}`]))
    expect(mismatches).toEqual([])
  })

  it("decodes every finite float16 pattern like onnxruntime's Cast to float32", async () => {
    const patterns = Array.from({ length: 65536 }, (_, i) => i).filter((b) => (b & 0x7c00) !== 0x7c00)
    const g = new Graph()
    g.output("f", g.apply("Cast", [g.input("h", "float16", [patterns.length])], { to: "float32" }))
    const program = g.build()
    const decoded = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program)
        const input = { dtype: "float16" as const, shape: [patterns.length], data: Uint16Array.from(patterns) }
        const out = yield* backend.run(exe, { h: input })
        return (yield* backend.download(out.f!)).data as Float32Array
      })
    )
    const mismatches = patterns.flatMap((b, i) => (Object.is(float16ToNumber(b), decoded[i]) ? [] : [`${b}: ${float16ToNumber(b)} vs ${decoded[i]}`]))
    expect(mismatches).toEqual([])
  })
})
