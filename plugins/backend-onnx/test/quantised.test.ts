/**
 * Quantised frozen weights (`CompileOptions.quantised`): the executable must
 * compute exactly with the dequantised weight (`dequantiseWeight`, the
 * reference semantics), whether it runs as MatMulNBits or as
 * DequantizeLinear + MatMul, and in a backward pass that reads W itself —
 * baked into the executable, or bound (`uploadQuantised`: stored once, shared
 * by executables, dequantised by each run).
 */
import { add, Graph, sum, dequantiseWeight, type DeviceQuantisedWeight, gradients, hostTensor, interpret, matmul, quantiseWeight, toFloat64, transposeLast2, type QuantisedWeight } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { bytesOf, decodeMessage, stringOf } from "./support/proto-decode.ts"
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

  describe("bound (uploadQuantised: one stored copy, dequantised by each run)", () => {
    const runBound = (weight: QuantisedWeight, worker = false) =>
      withBackend(
        (backend) =>
          Effect.gen(function* () {
            const held = yield* backend.uploadQuantised(weight)
            // Two programs (different shapes) bound to the same stored weight.
            const exe = yield* backend.compile(linearProgram(), { quantised: { w: held } })
            const g = new Graph()
            g.output("y", matmul(g.input("x", "float32", [5, COLS]), transposeLast2(g.parameter("w", "float32", [ROWS, COLS], { trainable: false }))))
            const other = yield* backend.compile(g.build(), { quantised: { w: held } })
            const y = toFloat64(yield* backend.download((yield* backend.run(exe, { x: hostTensor("float32", [2, 3, COLS], input) })).y!))
            const y5 = toFloat64(yield* backend.download((yield* backend.run(other, { x: hostTensor("float32", [5, COLS], input.slice(0, 5 * COLS)) })).y!))
            return { y, y5, feeds: exe.feeds.map((f) => f.name) }
          }),
        { externalThreshold: 256, worker }
      )

    for (const scheme of ["int8", "int4", "float16"] as const) {
      it(`${scheme}: equals the dequantised weight's result in every program bound to it, and is no feed`, async () => {
        const weight = quantiseWeight(weights, [ROWS, COLS], scheme, 32)
        const dequantised = dequantiseWeight(weight)
        const { y, y5, feeds } = await runBound(weight)
        expect(feeds).toEqual(["x"])
        expect(maxRelativeError(y, interpret(linearProgram(), { x: input, w: dequantised }).y!.data, 1e-2)).toBeLessThan(1e-4)
        const g = new Graph()
        g.output("y", matmul(g.input("x", "float32", [5, COLS]), transposeLast2(g.parameter("w", "float32", [ROWS, COLS], { trainable: false }))))
        expect(maxRelativeError(y5, interpret(g.build(), { x: input.slice(0, 5 * COLS), w: dequantised }).y!.data, 1e-2)).toBeLessThan(1e-4)
        if (scheme !== "float16") {
          const exact = interpret(linearProgram(), { x: input, w: weights }).y!.data
          expect(maxRelativeError(y, exact, 1e-2)).toBeGreaterThan(scheme === "int4" ? 1e-2 : 1e-4)
        }
      })
    }

    it("works through the worker-thread engine too", async () => {
      const weight = quantiseWeight(weights, [ROWS, COLS], "int4", 16)
      const { y } = await runBound(weight, true)
      expect(maxRelativeError(y, interpret(linearProgram(), { x: input, w: dequantiseWeight(weight) }).y!.data, 1e-2)).toBeLessThan(1e-4)
    })

    it("a backward pass reads the bound weight (QLoRA on a shared base)", async () => {
      const g = new Graph()
      const x = g.parameter("x", "float32", [3, COLS], { trainable: true })
      const w = g.parameter("w", "float32", [ROWS, COLS], { trainable: false })
      const [dx] = gradients(sum(matmul(x, transposeLast2(w))), [x])
      g.output("dx", dx!)
      const program = g.build()
      const weight = quantiseWeight(weights, [ROWS, COLS], "int8", 16)
      const xs = input.slice(0, 3 * COLS)
      const actual = await withBackend((backend) =>
        Effect.gen(function* () {
          const exe = yield* backend.compile(program, { quantised: { w: yield* backend.uploadQuantised(weight) } })
          return toFloat64(yield* backend.download((yield* backend.run(exe, { x: hostTensor("float32", [3, COLS], xs) })).dx!))
        })
      )
      expect(maxRelativeError(actual, interpret(program, { x: xs, w: dequantiseWeight(weight) }).dx!.data, 1e-2)).toBeLessThan(1e-4)
    })

    it("a released or foreign weight is a clear error, at run and at compile", async () => {
      const weight = quantiseWeight(weights, [ROWS, COLS], "int4", 32)
      const { runAfterRelease, compileAfterRelease, foreign } = await withBackend((backend) =>
        Effect.gen(function* () {
          const held = yield* backend.uploadQuantised(weight)
          const exe = yield* backend.compile(linearProgram(), { quantised: { w: held } })
          yield* backend.releaseQuantised(held)
          const runAfterRelease = String(yield* Effect.exit(backend.run(exe, { x: hostTensor("float32", [2, 3, COLS], input) })))
          const compileAfterRelease = String(yield* Effect.exit(backend.compile(linearProgram(), { quantised: { w: held } })))
          const fake: DeviceQuantisedWeight = { scheme: "int4", shape: [ROWS, COLS], blockSize: 32, handle: {} }
          const foreign = String(yield* Effect.exit(backend.compile(linearProgram(), { quantised: { w: fake } })))
          return { runAfterRelease, compileAfterRelease, foreign }
        })
      )
      expect(runAfterRelease).toContain(`bound weight "w" was released`)
      expect(compileAfterRelease).toContain("quantised weight was released")
      expect(foreign).toContain("belongs to another backend instance")
    })

    it("a program bound to a weight holds nothing the size of its blocks (no per-reader zero-point constant)", () => {
      // 4096 rows × 2 blocks: a zero point per block would be 8192 bytes per reader; a backward pass reads W twice.
      const rows = 4096
      const g = new Graph()
      const x = g.parameter("x", "float32", [3, 64], { trainable: true })
      const w = g.parameter("w", "float32", [rows, 64], { trainable: false })
      const [dx] = gradients(sum(matmul(x, transposeLast2(w))), [x])
      g.output("dx", dx!)
      for (const scheme of ["int8", "int4"] as const) {
        const bound: DeviceQuantisedWeight = { scheme, shape: [rows, 64], blockSize: 32, handle: {} }
        const { bundle } = compileProgram(g.build(), {}, { externalThreshold: 1 << 20, float16Weights: false }, { w: bound })
        expect(bundle.externalData).toEqual([])
        expect(bundle.bytes.byteLength).toBeLessThan(rows)
      }
    })

    it("readers of bound int4 weights cost few nodes: one tie per activation, one set of zero points per shape, no reshape of the stored inputs", () => {
      // onnxruntime keeps every node of a session resident (~60-80 KiB per reader measured at 1.1B), so repeats cost memory.
      // q, k and v: three weights of one shape read by one activation.
      const g = new Graph()
      const x = g.input("x", "float32", [1, 64])
      const names = ["q", "k", "v"]
      const outputs = names.map((name) => matmul(x, transposeLast2(g.parameter(name, "float32", [96, 64], { trainable: false }))))
      g.output("y", outputs.reduce((a, b) => add(a, b)))
      const bound: DeviceQuantisedWeight = { scheme: "int4", shape: [96, 64], blockSize: 32, handle: {} }
      const { bundle } = compileProgram(g.build(), {}, { externalThreshold: 1 << 20, float16Weights: false }, Object.fromEntries(names.map((n) => [n, bound])))
      const graph = decodeMessage(bytesOf(decodeMessage(bundle.bytes).get(7)?.[0]))
      const ops = (graph.get(1) ?? []).map((node) => stringOf(decodeMessage(bytesOf(node)).get(4)?.[0]))
      const count = (op: string) => ops.filter((o) => o === op).length
      expect(count("DequantizeLinear")).toBe(3)
      // The tie (Reshape, Slice, Cast, Cast, Mul) once for x; the zero points (Mul, Add, Cast) once for the shape.
      expect(count("Slice")).toBe(1)
      expect(count("Cast")).toBe(3)
      // Per reader: scales tie (Add), nibble mask, shift, two unsqueezes, concat, one reshape to blocks,
      // DequantizeLinear, one reshape to [rows, cols]; no reshape of the stored codes or scales.
      expect(count("Unsqueeze")).toBe(2 * 3)
      expect(count("Reshape")).toBe(1 + 2 * 3)
      // Plus each reader's Transpose + MatMul and the two Adds of the sum; a tie or zero-point set per reader,
      // or reshapes of the inputs (the layout before), would show here.
      expect(ops.length).toBe(5 + 3 + 3 * (9 + 2) + 2)
    })

    it("a bound weight of the wrong shape is refused at compile", async () => {
      const weight = quantiseWeight(weights.slice(0, 16 * COLS), [16, COLS], "int8", 32)
      const exit = await withBackend((backend) =>
        Effect.gen(function* () {
          return yield* Effect.exit(backend.compile(linearProgram(), { quantised: { w: yield* backend.uploadQuantised(weight) } }))
        })
      )
      expect(String(exit)).toContain("the program declares float32[48,80]")
    })
  })
})
