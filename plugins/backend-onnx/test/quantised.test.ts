/**
 * Quantised frozen weights (`CompileOptions.quantised`): the executable must
 * compute exactly with the dequantised weight (`dequantiseWeight`, the
 * reference semantics), whether it runs as MatMulNBits or as
 * DequantizeLinear + MatMul, and in a backward pass that reads W itself.
 */
import { Graph, sum, dequantiseWeight, gradients, hostTensor, interpret, matmul, quantiseWeight, toFloat64, transposeLast2, type QuantisedWeight } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { maxRelativeError, withBackend } from "./support/run.ts"

const ROWS = 48
const COLS = 80 // not a multiple of 32: the last block is partial

const linearProgram = () => {
  const g = new Graph()
  const x = g.input("x", "float32", [2, 3, COLS])
  const w = g.parameter("w", "float32", [ROWS, COLS], { trainable: false })
  g.output("y", matmul(x, transposeLast2(w)))
  return g.build()
}

const weights = new Float32Array(Array.from({ length: ROWS * COLS }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7))))
const input = Array.from({ length: 2 * 3 * COLS }, (_, i) => Math.cos(i * 0.11))

const runLinear = (weight: QuantisedWeight, quantisedMatMul: "nbits" | "nbits-int8" | "dequantize") =>
  withBackend(
    (backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(linearProgram(), { quantised: { w: weight } })
        const out = yield* backend.run(exe, { x: hostTensor("float32", [2, 3, COLS], input) })
        return toFloat64(yield* backend.download(out.y!))
      }),
    { quantisedMatMul, externalThreshold: 256 }
  )

describe("quantised frozen weights", () => {
  for (const scheme of ["int8", "int4"] as const) {
    for (const mode of ["nbits", "dequantize"] as const) {
      it(`${scheme} via ${mode} computes with the dequantised weight`, async () => {
        const weight = quantiseWeight(weights, [ROWS, COLS], scheme, 32)
        const reference = interpret(linearProgram(), { x: input, w: dequantiseWeight(weight) }).y!.data
        const actual = await runLinear(weight, mode)
        expect(maxRelativeError(actual, reference, 1e-2)).toBeLessThan(1e-4)
        // and it is not the float32 result: the weights really were quantised
        const exact = interpret(linearProgram(), { x: input, w: weights }).y!.data
        expect(maxRelativeError(actual, exact, 1e-2)).toBeGreaterThan(scheme === "int4" ? 1e-2 : 1e-4)
      })
    }
  }

  for (const scheme of ["int8", "int4"] as const) {
    it(`${scheme} via nbits-int8 (the default: int8 activations) stays within 1% of the dequantised weight's result`, async () => {
      const weight = quantiseWeight(weights, [ROWS, COLS], scheme, 32)
      const reference = interpret(linearProgram(), { x: input, w: dequantiseWeight(weight) }).y!.data
      const actual = await runLinear(weight, "nbits-int8")
      let worst = 0
      let scale = 0
      for (let i = 0; i < reference.length; i++) {
        worst = Math.max(worst, Math.abs(actual[i]! - reference[i]!))
        scale = Math.max(scale, Math.abs(reference[i]!))
      }
      expect(worst / scale).toBeLessThan(0.01)
      expect(worst).toBeGreaterThan(0) // the activations really were quantised
    })
  }

  it("float16 weights are cast back to float32", async () => {
    const weight = quantiseWeight(weights, [ROWS, COLS], "float16")
    const reference = interpret(linearProgram(), { x: input, w: dequantiseWeight(weight) }).y!.data
    expect(maxRelativeError(await runLinear(weight, "nbits"), reference, 1e-2)).toBeLessThan(1e-4)
  })

  it("a backward pass that reads W untransposed dequantises it (QLoRA: gradient w.r.t. the input)", async () => {
    const g = new Graph()
    const x = g.parameter("x", "float32", [3, COLS], { trainable: true })
    const w = g.parameter("w", "float32", [ROWS, COLS], { trainable: false })
    const loss = sum(matmul(x, transposeLast2(w)))
    const [dx] = gradients(loss, [x])
    g.output("dx", dx!)
    const program = g.build()
    const weight = quantiseWeight(weights, [ROWS, COLS], "int4", 16)
    const xs = input.slice(0, 3 * COLS)
    const reference = interpret(program, { x: xs, w: dequantiseWeight(weight) }).dx!.data
    const actual = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program, { quantised: { w: weight } })
        const out = yield* backend.run(exe, { x: hostTensor("float32", [3, COLS], xs) })
        return toFloat64(yield* backend.download(out.dx!))
      })
    )
    expect(maxRelativeError(actual, reference, 1e-2)).toBeLessThan(1e-4)
  })

  it("refuses a weight given both as a constant and quantised", async () => {
    const weight = quantiseWeight(weights, [ROWS, COLS], "int8")
    const exit = await withBackend((backend) =>
      Effect.exit(backend.compile(linearProgram(), { constants: { w: hostTensor("float32", [ROWS, COLS], weights) }, quantised: { w: weight } }))
    )
    expect(String(exit)).toContain("both as a constant and as a quantised weight")
  })
})
