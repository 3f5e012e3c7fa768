/**
 * Weight-left products (`compile/fusions.ts`): `x·Wᵀ` with a bound weight W
 * and 4-32 rows of x compiles to `(W·xᵀ)ᵀ`, computes what the float64
 * interpreter computes (forward and through a backward pass that also reads
 * Wᵀ), and keeps the plain form for baked weights, one row, many rows, small
 * weights and `weightLeft: false`; from 2 rows where a `weightLeftFrom` table
 * says so for the weight's inner size; and the backend's `prefersBound` and
 * weight-left rows (from the CPU's flags: AVX2 vs AVX-512 kernels, or the
 * settings).
 */
import { gradients, Graph, hostTensor, interpret, matmul, mul, sum, toFloat64, transposeLast2, type Program } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { prefersBound, cpuFeatures, parseCpuFlags, weightLeftFrom } from "../src/runtime/cpu-features.ts"
import { bytesOf, decodeMessage, stringOf } from "./support/proto-decode.ts"
import { maxRelativeError, withBackend } from "./support/run.ts"

const K = 64
const N = 1024

/** ONNX op types of a compiled program, in order (parameters not in `constants` are fed, as bound weights are). */
const opTypes = (program: Program, options: { weightLeft?: boolean; weightLeftFrom?: ReadonlyArray<readonly [number, number]>; constants?: Record<string, ReturnType<typeof hostTensor>> } = {}): Array<string> => {
  const { bundle } = compileProgram(program, options.constants ?? {}, { externalThreshold: 1 << 20, float16Weights: false, weightLeft: options.weightLeft ?? true, ...(options.weightLeftFrom ? { weightLeftFrom: options.weightLeftFrom } : {}) })
  const graph = decodeMessage(bytesOf(decodeMessage(bundle.bytes).get(7)?.[0]))
  return (graph.get(1) ?? []).map((node) => stringOf(decodeMessage(bytesOf(node)).get(4)?.[0]))
}

const values = (count: number, phase: number) => Array.from({ length: count }, (_, i) => Math.sin(i * 0.37 + phase) * (1 + (i % 3)))

/** y = x·Wᵀ for x of `xShape` and a frozen parameter W [n, K]. */
const projection = (xShape: ReadonlyArray<number>, n = N) => {
  const g = new Graph()
  const x = g.input("x", "float32", xShape)
  const w = g.parameter("w", "float32", [n, K], { trainable: false })
  g.output("y", matmul(x, transposeLast2(w)))
  return g.build()
}

/** Runs `program` with `w` uploaded and bound (the shared-weight path); returns the outputs as float64. */
const runBound = (program: Program, feeds: Record<string, { shape: ReadonlyArray<number>; data: ReadonlyArray<number> }>, w: ReadonlyArray<number>, n: number, weightLeft: boolean, from: ReadonlyArray<readonly [number, number]> = []) =>
  withBackend(
    (backend) =>
      Effect.gen(function* () {
        const weight = yield* backend.upload(hostTensor("float32", [n, K], w))
        const exe = yield* backend.compile(program, { weights: { w: weight } })
        const out = yield* backend.run(exe, Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, hostTensor("float32", f.shape, f.data)])))
        return Object.fromEntries(yield* Effect.forEach(Object.entries(out), ([name, t]) => Effect.map(backend.download(t), (h) => [name, toFloat64(h)] as const)))
      }),
    { weightLeft, weightLeftFrom: from }
  )

describe("weight-left products", () => {
  it("emits (W·xᵀ)ᵀ for a bound weight and 4-32 rows, rank 3 and rank 2", () => {
    expect(opTypes(projection([4, 1, K]))).toEqual(["Reshape", "Transpose", "MatMul", "Transpose", "Reshape"])
    expect(opTypes(projection([8, K]))).toEqual(["Transpose", "MatMul", "Transpose"])
    expect(opTypes(projection([2, 16, K]))).toEqual(["Reshape", "Transpose", "MatMul", "Transpose", "Reshape"])
  })

  it("keeps x·Wᵀ for a baked weight, 1-3 rows, more than 32 rows, a small weight, and weightLeft: false", () => {
    const plain = ["Transpose", "MatMul"]
    expect(opTypes(projection([4, 1, K]), { constants: { w: hostTensor("float32", [N, K], values(N * K, 0)) } })).toEqual(plain)
    expect(opTypes(projection([1, 1, K]))).toEqual(plain)
    expect(opTypes(projection([2, 1, K]))).toEqual(plain)
    expect(opTypes(projection([3, 11, K]))).toEqual(plain)
    expect(opTypes(projection([4, 1, K], 16))).toEqual(plain)
    expect(opTypes(projection([4, 1, K]), { weightLeft: false })).toEqual(plain)
  })

  it("emits it from 2 rows where a weightLeftFrom table says so for the weight's inner size K, else from 4", () => {
    const left = ["Reshape", "Transpose", "MatMul", "Transpose", "Reshape"]
    const plain = ["Transpose", "MatMul"]
    expect(opTypes(projection([2, 1, K]), { weightLeftFrom: [[K, 2]] })).toEqual(left)
    expect(opTypes(projection([3, 1, K]), { weightLeftFrom: [[K / 2, 2]] })).toEqual(left)
    expect(opTypes(projection([2, 1, K]), { weightLeftFrom: [[K + 1, 2]] })).toEqual(plain)
    // The pair with the largest k at or below K applies.
    expect(opTypes(projection([2, 1, K]), { weightLeftFrom: [[1, 2], [K, 4]] })).toEqual(plain)
    expect(opTypes(projection([2, 1, K]), { weightLeftFrom: [[1, 4], [K, 2]] })).toEqual(left)
    expect(opTypes(projection([1, 1, K]), { weightLeftFrom: [[K, 2]] })).toEqual(plain)
    expect(opTypes(projection([2, 1, K]), { weightLeftFrom: [[K, 2]], weightLeft: false })).toEqual(plain)
  })

  const cases: ReadonlyArray<readonly [ReadonlyArray<number>, ReadonlyArray<readonly [number, number]>]> = [[[4, 1, K], []], [[8, K], []], [[2, 16, K], []], [[2, 1, K], [[K, 2]]]]
  for (const [xShape, from] of cases) {
    it(`computes what the float64 interpreter computes, x [${xShape.join(",")}], and what the plain form computes`, async () => {
      const program = projection(xShape)
      const x = values(xShape.reduce((a, b) => a * b, 1), 1)
      const w = values(N * K, 2)
      const reference = interpret(program, { x, w }).y!.data
      const left = await runBound(program, { x: { shape: xShape, data: x } }, w, N, true, from)
      const plain = await runBound(program, { x: { shape: xShape, data: x } }, w, N, false)
      // Sums of 64 products of magnitude up to 9: errors relative to max(|y|, 1), float32 rounding.
      expect(maxRelativeError(left.y!, reference, 1)).toBeLessThan(1e-5)
      expect(maxRelativeError(left.y!, plain.y!, 1)).toBeLessThan(1e-5)
    })
  }

  it("keeps Wᵀ for a backward pass that reads it, and the gradient matches the interpreter", async () => {
    const g = new Graph()
    const x = g.input("x", "float32", [4, K])
    const c = g.input("c", "float32", [4, N])
    const w = g.parameter("w", "float32", [N, K], { trainable: false })
    const loss = sum(mul(matmul(x, transposeLast2(w)), c))
    g.output("loss", loss)
    g.output("dx", gradients(loss, [x])[0]!)
    const program = g.build()
    const ops = opTypes(program)
    // The forward product is weight-left; Wᵀ stays for the backward pass (dx = c·W, as written by autodiff).
    expect(ops.filter((op) => op === "MatMul").length).toBeGreaterThanOrEqual(2)
    expect(opTypes(program, { weightLeft: false }).filter((op) => op === "Transpose").length).toBeLessThan(ops.filter((op) => op === "Transpose").length)
    const feeds = { x: { shape: [4, K], data: values(4 * K, 3) }, c: { shape: [4, N], data: values(4 * N, 4) } }
    const w0 = values(N * K, 5)
    const reference = interpret(program, { x: feeds.x.data, c: feeds.c.data, w: w0 })
    const actual = await runBound(program, feeds, w0, N, true)
    expect(maxRelativeError(actual.dx!, reference.dx!.data, 1)).toBeLessThan(1e-5)
    // The loss sums 4096 float32 products (onnxruntime's reduction order, not the interpreter's).
    expect(maxRelativeError(actual.loss!, reference.loss!.data, 1)).toBeLessThan(1e-4)
  })

  it("says where to read bound weights rather than bake them: from 4 rows with AVX2 kernels, and at one row too from K = 2048; with AVX-512 ones at every row count from K = 2048, never below; never at 2+ rows without weight-left products", async () => {
    const avx2 = parseCpuFlags("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\nbugs\t\t: none\n")
    const avx512 = parseCpuFlags("processor\t: 0\nflags\t\t: fpu avx2 fma avx512f avx512bw avx512vl\n")
    expect(avx2?.has("avx2")).toBe(true)
    expect(avx2?.has("none")).toBe(false)
    expect(parseCpuFlags("processor : 0\nFeatures : neon\n")).toBeUndefined()
    const rows = [1, 2, 3, 4, 7, 8, 16, 32, 33, 64]
    const boundRows = (rule: (rows: number, k: number) => boolean, k: number) => rows.filter((r) => rule(r, k))
    for (const k of [384, 2047]) {
      expect(boundRows(prefersBound(true, avx2), k)).toEqual([4, 7, 8, 16, 32, 33, 64])
      expect(boundRows(prefersBound(true, undefined), k)).toEqual([4, 7, 8, 16, 32, 33, 64])
      expect(boundRows(prefersBound(false, avx2), k)).toEqual([])
    }
    // From K = 2048 one row reads the bound weight too (1.04–1.15× slower than pre-packed: not worth a second copy).
    for (const k of [2048, 4096]) {
      expect(boundRows(prefersBound(true, avx2), k)).toEqual([1, 4, 7, 8, 16, 32, 33, 64])
      expect(boundRows(prefersBound(true, undefined), k)).toEqual([1, 4, 7, 8, 16, 32, 33, 64])
      expect(boundRows(prefersBound(false, avx2), k)).toEqual([1])
    }
    expect(boundRows(prefersBound(true, avx512), 384)).toEqual([])
    expect(boundRows(prefersBound(true, avx512), 1536)).toEqual([])
    expect(boundRows(prefersBound(true, avx512), 2047)).toEqual([])
    expect(boundRows(prefersBound(true, avx512), 2048)).toEqual(rows)
    expect(boundRows(prefersBound(true, avx512), 5632)).toEqual(rows)
    expect(boundRows(prefersBound(false, avx512), 2048)).toEqual([1])
    // Weight-left rows: from 2 at K >= 1024 with AVX-512 kernels only.
    expect(weightLeftFrom(avx2)).toEqual([])
    expect(weightLeftFrom(avx512)).toEqual([[1024, 2]])
    // The service reports this CPU's answer, or the setting's.
    const reported = await withBackend((backend) => Effect.succeed(rows.flatMap((r) => [backend.prefersBound?.(r, 384), backend.prefersBound?.(r, 4096)])))
    expect(reported).toEqual(rows.flatMap((r) => [prefersBound(true, cpuFeatures().flags)(r, 384), prefersBound(true, cpuFeatures().flags)(r, 4096)]))
    expect(await withBackend((backend) => Effect.succeed(boundRows(backend.prefersBound!, 4096)), { weightLeft: false })).toEqual(boundRows(prefersBound(false, cpuFeatures().flags), 4096))
    expect(await withBackend((backend) => Effect.succeed(boundRows(backend.prefersBound!, 384)), { prefersBoundFromRows: 8 })).toEqual([8, 16, 32, 33, 64])
    expect(await withBackend((backend) => Effect.succeed(boundRows(backend.prefersBound!, 4096)), { prefersBoundFromRows: Infinity })).toEqual([])
  })
})
