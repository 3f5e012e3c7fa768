/**
 * Transposed copies (`planTransposedCopies` in compile/fusions.ts): `x·Wᵀ`
 * with a large, short-K bound weight W [N, K] and 1-3 rows of x compiles to
 * `x·Wkn`, fed a [K, N] copy the backend makes from the bound tensor; the
 * result is what the float64 interpreter computes, in this thread and in a
 * worker, the plain form stays for everything else, and a released weight
 * takes its copy with it.
 */
import { Graph, hostTensor, interpret, matmul, toFloat64, transposeLast2, type Program } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { bytesOf, decodeMessage, stringOf } from "./support/proto-decode.ts"
import { maxRelativeError, withBackend } from "./support/run.ts"

// 4 Mi elements (16 MiB at float32), the smallest weight that qualifies; K under the 512 limit.
const K = 128
const N = 32768

const values = (count: number, phase: number) => Array.from({ length: count }, (_, i) => Math.sin(i * 0.37 + phase) * (1 + (i % 3)))

/** y = x·Wᵀ for x of `xShape` and a frozen parameter W [n, k]. */
const projection = (xShape: ReadonlyArray<number>, n = N, k = K) => {
  const g = new Graph()
  const x = g.input("x", "float32", [...xShape.slice(0, -1), k])
  const w = g.parameter("w", "float32", [n, k], { trainable: false })
  g.output("y", matmul(x, transposeLast2(w)))
  return g.build()
}

/** ONNX op types and graph input names of a compiled program. */
const compiled = (program: Program, options: { bound?: ReadonlyArray<string>; transposedCopies?: boolean } = {}) => {
  const model = compileProgram(program, {}, { externalThreshold: 1 << 20, float16Weights: false, transposedCopies: options.transposedCopies ?? true }, {}, [], options.bound ?? ["w"])
  const graph = decodeMessage(bytesOf(decodeMessage(model.bundle.bytes).get(7)?.[0]))
  const ops = (graph.get(1) ?? []).map((node) => stringOf(decodeMessage(bytesOf(node)).get(4)?.[0]))
  const inputs = (graph.get(11) ?? []).map((input) => stringOf(decodeMessage(bytesOf(input)).get(1)?.[0]))
  return { ops, inputs, transposedInputs: model.transposedInputs }
}

describe("transposed copies of bound weights", () => {
  it("reads a large short-K bound weight through its [K, N] copy at 1-3 rows", () => {
    for (const xShape of [[1, 1, K], [3, 1, K], [1, K]]) {
      const { ops, inputs, transposedInputs } = compiled(projection(xShape))
      expect(ops).toEqual(["MatMul"])
      expect(transposedInputs).toEqual([{ parameter: "w", onnxName: "kn:w" }])
      expect(inputs).toContain("kn:w")
    }
  })

  it("keeps the other forms: 4+ rows, an unbound or small weight, long K, and transposedCopies: false", () => {
    const plain = ["Transpose", "MatMul"]
    expect(compiled(projection([4, 1, K])).ops).toEqual(["Reshape", "Transpose", "MatMul", "Transpose", "Reshape"])
    // A weight fed by the caller each run has no copy the backend could keep.
    expect(compiled(projection([1, 1, K]), { bound: [] }).ops).toEqual(plain)
    expect(compiled(projection([1, 1, K], N / 2)).ops).toEqual(plain)
    expect(compiled(projection([1, 1, 768], 32000, 768)).ops).toEqual(plain)
    const off = compiled(projection([1, 1, K]), { transposedCopies: false })
    expect(off.ops).toEqual(plain)
    expect(off.transposedInputs).toEqual([])
  })

  for (const worker of [false, true]) {
    it(`computes what the float64 interpreter computes and what the plain form computes (${worker ? "worker engine" : "this thread"})`, async () => {
      const programs = [projection([1, 1, K]), projection([2, 1, K])]
      const w = values(N * K, 2)
      const xs = [values(K, 1), values(2 * K, 3)]
      const run = (transposedCopies: boolean) =>
        withBackend(
          (backend) =>
            Effect.gen(function* () {
              const weight = yield* backend.upload(hostTensor("float32", [N, K], w))
              const outputs: Array<Float64Array> = []
              // Two programs bind the same weight: both read the one copy.
              for (const [i, program] of programs.entries()) {
                const exe = yield* backend.compile(program, { weights: { w: weight } })
                const xShape = program.inputs.map((input) => program.nodes[input.id]!.shape)[0]!
                const out = yield* backend.run(exe, { x: hostTensor("float32", xShape, xs[i]!) })
                outputs.push(toFloat64(yield* backend.download(out["y"]!)))
              }
              return outputs
            }),
          { transposedCopies, worker }
        )
      const [withCopies, plain] = [await run(true), await run(false)]
      for (const [i, program] of programs.entries()) {
        const reference = interpret(program, { x: xs[i]!, w }).y!.data
        // Sums of 128 products of magnitude up to 9: float32 rounding relative to max(|y|, 1).
        expect(maxRelativeError(withCopies[i]!, reference, 1)).toBeLessThan(1e-5)
        expect(maxRelativeError(withCopies[i]!, plain[i]!, 1)).toBeLessThan(1e-5)
      }
    })
  }

  it("a released weight cannot be read through its copy", async () => {
    const result = await withBackend((backend) =>
      Effect.gen(function* () {
        const weight = yield* backend.upload(hostTensor("float32", [N, K], values(N * K, 4)))
        const exe = yield* backend.compile(projection([1, 1, K]), { weights: { w: weight } })
        yield* backend.run(exe, { x: hostTensor("float32", [1, 1, K], values(K, 5)) })
        yield* backend.release(weight)
        return yield* Effect.flip(backend.run(exe, { x: hostTensor("float32", [1, 1, K], values(K, 5)) }))
      })
    )
    expect(result.message).toMatch(/bound weight "w" was released/)
  })
})
