/**
 * Fused subgraphs (`compile/fusions.ts`): RMSNorm compiles to one
 * `SimplifiedLayerNormalization` node where nothing else reads its
 * intermediates, computes what the float64 interpreter computes, and is left
 * op by op where the pattern does not hold (a backward pass reading the
 * intermediates, a reduction over another axis, `fuse: false`).
 */
import { add, Graph, gradients, hostTensor, interpret, mean, mul, rmsNorm, rsqrt, square, sum, toFloat64, type Program } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { bytesOf, decodeMessage, stringOf } from "./support/proto-decode.ts"
import { maxRelativeError, withBackend } from "./support/run.ts"

const SHAPE = [2, 3, 16]
const EPS = 1e-5

/** ONNX op types of a compiled program, in order. */
const opTypes = (program: Program, fuse: boolean, constants: Record<string, ReturnType<typeof hostTensor>> = {}): Array<string> => {
  const { bundle } = compileProgram(program, constants, { externalThreshold: 1 << 20, float16Weights: false, fuse })
  const graph = decodeMessage(bytesOf(decodeMessage(bundle.bytes).get(7)?.[0]))
  return (graph.get(1) ?? []).map((node) => stringOf(decodeMessage(bytesOf(node)).get(4)?.[0]))
}

const xValues = Array.from({ length: 2 * 3 * 16 }, (_, i) => Math.sin(i * 0.7) * (1 + (i % 5)))
const wValues = Array.from({ length: 16 }, (_, i) => 0.5 + Math.cos(i))

/** Two RMSNorms around a residual add, as in a decoder layer (weights as inputs or parameters). */
const normProgram = (weightKind: "parameter" | "input") => {
  const g = new Graph()
  const x = g.input("x", "float32", SHAPE)
  const w = weightKind === "input" ? g.input("w", "float32", [16]) : g.parameter("w", "float32", [16], { trainable: false })
  const first = rmsNorm(x, w, EPS)
  g.output("y", rmsNorm(add(first, x), w, 1e-6))
  return g.build()
}

const run = (program: Program, feeds: Record<string, ReadonlyArray<number>>, shapes: Record<string, ReadonlyArray<number>>, fuse: boolean) =>
  withBackend(
    (backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program, {})
        const out = yield* backend.run(exe, Object.fromEntries(Object.entries(feeds).map(([name, values]) => [name, hostTensor("float32", shapes[name]!, values)])))
        return Object.fromEntries(yield* Effect.forEach(Object.entries(out), ([name, t]) => Effect.map(backend.download(t), (h) => [name, toFloat64(h)] as const)))
      }),
    { fuse }
  )

describe("RMSNorm fusion", () => {
  it("compiles each RMSNorm to one SimplifiedLayerNormalization node (7 nodes each without fusion)", () => {
    const fused = opTypes(normProgram("input"), true)
    expect(fused.filter((op) => op === "SimplifiedLayerNormalization")).toHaveLength(2)
    for (const op of ["ReduceMean", "Sqrt", "Reciprocal"]) expect(fused).not.toContain(op)
    expect(fused).toEqual(["SimplifiedLayerNormalization", "Add", "SimplifiedLayerNormalization"])
    const plain = opTypes(normProgram("input"), false)
    expect(plain).toHaveLength(15)
    expect(plain.filter((op) => op === "ReduceMean")).toHaveLength(2)
  })

  it("fuses a baked weight too", () => {
    const ops = opTypes(normProgram("parameter"), true, { w: hostTensor("float32", [16], wValues) })
    expect(ops.filter((op) => op === "SimplifiedLayerNormalization")).toHaveLength(2)
  })

  for (const fuse of [true, false]) {
    it(`computes what the float64 interpreter computes (fuse: ${fuse})`, async () => {
      const program = normProgram("input")
      const reference = interpret(program, { x: xValues, w: wValues }).y!.data
      const actual = await run(program, { x: xValues, w: wValues }, { x: SHAPE, w: [16] }, fuse)
      expect(maxRelativeError(actual.y!, reference, 1e-3)).toBeLessThan(1e-5)
    })
  }

  it("is not fused where a backward pass reads the intermediates, and the gradients stay exact", async () => {
    const g = new Graph()
    const x = g.input("x", "float32", SHAPE)
    const w = g.input("w", "float32", [16])
    const loss = sum(mul(rmsNorm(x, w, EPS), x))
    const [dx, dw] = gradients(loss, [x, w])
    g.output("dx", dx!)
    g.output("dw", dw!)
    const program = g.build()
    expect(opTypes(program, true)).not.toContain("SimplifiedLayerNormalization")
    const reference = interpret(program, { x: xValues, w: wValues })
    const actual = await run(program, { x: xValues, w: wValues }, { x: SHAPE, w: [16] }, true)
    expect(maxRelativeError(actual.dx!, reference.dx!.data, 1e-3)).toBeLessThan(1e-4)
    expect(maxRelativeError(actual.dw!, reference.dw!.data, 1e-3)).toBeLessThan(1e-4)
  })

  it("leaves look-alikes op by op: a mean over another axis, an intermediate that is also an output", () => {
    const g = new Graph()
    const x = g.input("x", "float32", SHAPE)
    const w = g.input("w", "float32", [16])
    const inverse = rsqrt(add(mean(square(x), 1, true), EPS))
    g.output("wrongAxis", mul(w, mul(x, inverse)))
    const g2 = new Graph()
    const x2 = g2.input("x", "float32", SHAPE)
    const w2 = g2.input("w", "float32", [16])
    const inverse2 = rsqrt(add(mean(square(x2), -1, true), EPS))
    g2.output("y", mul(w2, mul(x2, inverse2)))
    g2.output("inverse", inverse2)
    for (const program of [g.build(), g2.build()]) expect(opTypes(program, true)).not.toContain("SimplifiedLayerNormalization")
  })
})
