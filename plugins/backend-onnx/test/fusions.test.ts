/**
 * Fused subgraphs (`compile/fusions.ts`): RMSNorm compiles to one
 * `SimplifiedLayerNormalization` node where nothing else reads its
 * intermediates, computes what the float64 interpreter computes, and is left
 * op by op where the pattern does not hold (a backward pass reading the
 * intermediates, a reduction over another axis, `fuse: false`).
 */
import { add, applyRotary, Graph, gradients, hostTensor, interpret, mean, mul, rmsNorm, rsqrt, square, sum, toFloat64, type Program } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { bytesOf, decodeMessage, stringOf } from "./support/proto-decode.ts"
import { maxRelativeError, withBackend } from "./support/run.ts"

const SHAPE = [2, 3, 16]
const EPS = 1e-5

/** ONNX op types of a compiled program, in order. */
const opTypes = (program: Program, fuse: boolean, constants: Record<string, ReturnType<typeof hostTensor>> = {}, rotaryTables: ReadonlyArray<string> = []): Array<string> => {
  const { bundle } = compileProgram(program, constants, { externalThreshold: 1 << 20, float16Weights: false, fuse }, {}, rotaryTables)
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

const run = (program: Program, feeds: Record<string, ReadonlyArray<number>>, shapes: Record<string, ReadonlyArray<number>>, fuse: boolean, rotaryTables: ReadonlyArray<string> = []) =>
  withBackend(
    (backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program, { rotaryTables })
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

describe("rotary embedding fusion", () => {
  const [B, H, S, D] = [2, 3, 4, 8]
  /** q and k of one attention layer rotated by the same tables (as the Llama trunk does). */
  const rotaryProgram = (options: { backward?: boolean } = {}) => {
    const g = new Graph()
    const q = g.input("q", "float32", [B, H, S, D])
    const k = g.input("k", "float32", [B, 1, S, D])
    const cos = g.input("cos", "float32", [B, S, D])
    const sin = g.input("sin", "float32", [B, S, D])
    const qr = applyRotary(q, cos, sin)
    g.output("q_rot", qr)
    g.output("k_rot", applyRotary(k, cos, sin))
    if (options.backward) {
      // d/d sin reads rotate_half(q), an intermediate of q's rotation.
      const [dq, dsin] = gradients(sum(mul(qr, qr)), [q, sin])
      g.output("dq", dq!)
      g.output("dsin", dsin!)
    }
    return g.build()
  }
  // Hugging Face tables: per token, angles position·θ^(−2i/D) duplicated across the two halves.
  const tables = (fn: (a: number) => number) =>
    Array.from({ length: B * S * D }, (_, j) => {
      const token = Math.floor(j / D)
      const i = (j % D) % (D / 2)
      return fn((token * 3 + 1) * Math.pow(10000, (-2 * i) / D))
    })
  const feeds = { q: xValues.slice(0, B * H * S * D).concat(), k: Array.from({ length: B * S * D }, (_, i) => Math.cos(i * 0.3)), cos: tables(Math.cos), sin: tables(Math.sin) }
  while (feeds.q.length < B * H * S * D) feeds.q.push(Math.sin(feeds.q.length))
  const shapes = { q: [B, H, S, D], k: [B, 1, S, D], cos: [B, S, D], sin: [B, S, D] }

  it("compiles q's and k's rotary to one RotaryEmbedding each over tables the caller declares, sharing the caches", () => {
    const fused = opTypes(rotaryProgram(), true, {}, ["cos", "sin"])
    expect(fused.filter((op) => op === "RotaryEmbedding")).toHaveLength(2)
    for (const op of ["Neg", "Concat", "Mul", "Add"]) expect(fused).not.toContain(op)
    // One Slice + Reshape per table (cos, sin), shared by both rotations.
    expect(fused.filter((op) => op === "Slice")).toHaveLength(2)
  })

  it("stays op by op without the declaration, with fuse: false, and where a backward pass reads the intermediates", () => {
    expect(opTypes(rotaryProgram(), true)).not.toContain("RotaryEmbedding")
    expect(opTypes(rotaryProgram(), false, {}, ["cos", "sin"])).not.toContain("RotaryEmbedding")
    const withBackward = opTypes(rotaryProgram({ backward: true }), true, {}, ["cos", "sin"])
    // k's rotation has no backward pass and still fuses; q's intermediates are read by the gradient.
    expect(withBackward.filter((op) => op === "RotaryEmbedding")).toHaveLength(1)
  })

  it("refuses a declared table whose halves differ, naming the input and the row", async () => {
    const program = rotaryProgram()
    const skewed = { ...feeds, sin: feeds.sin.map((v, j) => (j === 3 * D + D - 1 ? v + 0.5 : v)) }
    const failure = await run(program, skewed, shapes, true, ["cos", "sin"]).then(() => undefined, (error: unknown) => error)
    expect(String(failure)).toMatch(/rotary table "sin" has unequal halves at row 3/)
  })

  for (const declared of [true, false]) {
    it(`computes what the float64 interpreter computes (tables declared: ${declared})`, async () => {
      const program = rotaryProgram({ backward: true })
      const reference = interpret(program, feeds)
      const actual = await run(program, feeds, shapes, true, declared ? ["cos", "sin"] : [])
      for (const name of ["q_rot", "k_rot", "dq", "dsin"]) expect(maxRelativeError(actual[name]!, reference[name]!.data, 1)).toBeLessThan(1e-5)
    })
  }
})
