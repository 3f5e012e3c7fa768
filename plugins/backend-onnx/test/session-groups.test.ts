/**
 * Session groups (`CompileOptions.group`): programs of one family at several
 * shapes compiled into one onnxruntime session (one `If` branch each) that
 * holds one copy of their baked weights. Grouped programs must give exactly
 * what the same programs give compiled one by one, keep running while later
 * members join (each join rebuilds the session), and the merged model must
 * hold each shared weight once. The int4 weight runs as MatMulNBits with
 * int8 activations (the default), which onnxruntime does only on codes it
 * pre-packed; unpacked codes fall back to float32 activations and give other
 * numbers, so equality also shows that every branch reads the pre-packed
 * copy (a branch nested two `If`s deep did not: caught by this test).
 */
import { add, Graph, hostTensor, matmul, quantiseWeight, sum, toFloat64, transposeLast2, type BackendService, type QuantisedWeight } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { GROUP_BRANCH_INPUT, mergeGroup } from "../src/compile/group.ts"
import { bytesOf, decodeMessage, stringOf } from "./support/proto-decode.ts"
import { withBackend } from "./support/run.ts"

const ROWS = 48
const COLS = 80

/** y = x·Wᵀ + b (W int4, baked as MatMulNBits; b float32, baked) and its sum: one family, `rows` rows of x. */
const program = (rows: number) => {
  const g = new Graph()
  const x = g.input("x", "float32", [rows, COLS])
  const w = g.parameter("w", "float32", [ROWS, COLS], { trainable: false })
  const b = g.parameter("b", "float32", [ROWS], { trainable: false })
  const y = add(matmul(x, transposeLast2(w)), b)
  g.output("y", y)
  g.output("total", sum(y))
  return g.build()
}

const weight: QuantisedWeight = quantiseWeight(new Float32Array(Array.from({ length: ROWS * COLS }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)))), [ROWS, COLS], "int4", 32)
const bias = hostTensor("float32", [ROWS], Array.from({ length: ROWS }, (_, i) => Math.cos(i)))
const xOf = (rows: number) => hostTensor("float32", [rows, COLS], Array.from({ length: rows * COLS }, (_, i) => Math.cos(i * 0.11 + rows)))
// Small threshold: the bias and the codes go to external data, as a model's weights do.
const settings = { externalThreshold: 64 }
// The same, for compiling without a backend.
const compilerSettings = { ...settings, float16Weights: false }

const compileRows = (backend: BackendService, rows: number, group?: string) =>
  backend.compile(program(rows), { constants: { b: bias }, quantised: { w: weight }, ...(group !== undefined ? { group } : {}) })

const runRows = (backend: BackendService, exe: Effect.Success<ReturnType<typeof compileRows>>, rows: number) =>
  Effect.gen(function* () {
    const out = yield* backend.run(exe, { x: xOf(rows) })
    return { y: toFloat64(yield* backend.download(out.y!)), total: toFloat64(yield* backend.download(out.total!)) }
  })

describe("session groups", () => {
  it("grouped programs give exactly the results of the same programs compiled one by one, before and after later members join", async () => {
    const sizes = [1, 4, 8]
    const alone = await withBackend((backend) => Effect.forEach(sizes, (rows) => Effect.flatMap(compileRows(backend, rows), (exe) => runRows(backend, exe, rows))), settings)
    const grouped = await withBackend(
      (backend) =>
        Effect.gen(function* () {
          const runs: Array<{ rows: number; y: Float64Array; total: Float64Array }> = []
          const exes: Array<Effect.Success<ReturnType<typeof compileRows>>> = []
          for (const rows of sizes) {
            exes.push(yield* compileRows(backend, rows, "family"))
            // Every member so far runs on the rebuilt session.
            for (const [i, exe] of exes.entries()) runs.push({ rows: sizes[i]!, ...(yield* runRows(backend, exe, sizes[i]!)) })
          }
          // Compiling a member again reuses its branch.
          const again = yield* compileRows(backend, 4, "family")
          runs.push({ rows: 4, ...(yield* runRows(backend, again, 4)) })
          return runs
        }),
      settings
    )
    expect(grouped.map((r) => r.rows)).toEqual([1, 1, 4, 1, 4, 8, 4])
    // The same group in a worker-thread engine.
    const inWorker = await withBackend((backend) => Effect.forEach(sizes, (rows) => Effect.flatMap(compileRows(backend, rows, "family"), (exe) => runRows(backend, exe, rows))), { ...settings, worker: true })
    for (const run of [...grouped, ...inWorker.map((r, i) => ({ rows: sizes[i]!, ...r }))]) {
      const reference = alone[sizes.indexOf(run.rows)]!
      expect([...run.y]).toEqual([...reference.y])
      expect([...run.total]).toEqual([...reference.total])
    }
  })

  it("runs of a member concurrent with another member joining (the session is swapped) all succeed with the same results", async () => {
    const [alone] = await withBackend((backend) => Effect.flatMap(compileRows(backend, 1), (exe) => Effect.map(runRows(backend, exe, 1), (r) => [r])), settings)
    const runs = await withBackend(
      (backend) =>
        Effect.gen(function* () {
          const first = yield* compileRows(backend, 1, "family")
          const [, ...results] = yield* Effect.all([compileRows(backend, 8, "family"), ...Array.from({ length: 6 }, () => runRows(backend, first, 1))], { concurrency: "unbounded" })
          return results as Array<{ y: Float64Array; total: Float64Array }>
        }),
      settings
    )
    expect(runs.length).toBe(6)
    for (const run of runs) expect([...run.y]).toEqual([...alone!.y])
  })

  it("programs with other feeds or outputs under the same group name run in their own group", async () => {
    const other = () => {
      const g = new Graph()
      const x = g.input("x", "float32", [2, COLS])
      const w = g.parameter("w", "float32", [ROWS, COLS], { trainable: false })
      g.output("only", matmul(x, transposeLast2(w)))
      return g.build()
    }
    const [a, b] = await withBackend(
      (backend) =>
        Effect.gen(function* () {
          const first = yield* compileRows(backend, 2, "family")
          const second = yield* backend.compile(other(), { quantised: { w: weight }, group: "family" })
          const y = (yield* runRows(backend, first, 2)).y
          const only = toFloat64(yield* backend.download((yield* backend.run(second, { x: xOf(2) })).only!))
          return [y, only] as const
        }),
      settings
    )
    // y = x·Wᵀ + b and only = x·Wᵀ on the same x: their difference is the bias on every row.
    a.forEach((value, i) => expect(value - b[i]!).toBeCloseTo(bias.data[i % ROWS] as number, 4))
  })

  it("a program that cannot join (other weights under a shared name) fails with the reason, and the members before it keep running", async () => {
    const int8 = quantiseWeight(new Float32Array(ROWS * COLS).fill(0.5), [ROWS, COLS], "int8", 32)
    const [alone] = await withBackend((backend) => Effect.flatMap(compileRows(backend, 1), (exe) => Effect.map(runRows(backend, exe, 1), (r) => [r])), settings)
    const r = await withBackend(
      (backend) =>
        Effect.gen(function* () {
          const first = yield* compileRows(backend, 1, "family")
          const refused = yield* Effect.flip(backend.compile(program(4), { constants: { b: bias }, quantised: { w: int8 }, group: "family" }))
          return { refused: refused.message, after: yield* runRows(backend, first, 1) }
        }),
      settings
    )
    expect(r.refused).toMatch(/bake different "param:w:codes"/)
    expect([...r.after.y]).toEqual([...alone!.y])
  })

  it("the merged model holds each shared weight once and one If per branch", () => {
    const members = [1, 4, 8].map((rows) => compileProgram(program(rows), { b: bias }, compilerSettings, { w: weight }))
    const bundle = mergeGroup(members)
    const graph = decodeMessage(bytesOf(decodeMessage(bundle.bytes).get(7)?.[0]))
    const initializerNames = (graph.get(5) ?? []).map((t) => stringOf(decodeMessage(bytesOf(t)).get(8)?.[0]))
    const shared = initializerNames.filter((name) => name.startsWith("param:"))
    expect(new Set(shared).size).toBe(shared.length)
    expect(shared.sort()).toEqual(["param:b", "param:w:codes", "param:w:scales"].sort())
    // The codes and the bias are external data, once each (not once per member).
    expect(bundle.externalData.filter((e) => e.path.startsWith("shared")).length).toBe(members[0]!.bundle.externalData.length)
    const inputs = (graph.get(11) ?? []).map((v) => stringOf(decodeMessage(bytesOf(v)).get(1)?.[0]))
    expect(inputs).toContain(GROUP_BRANCH_INPUT)
    const ops = (graph.get(1) ?? []).map((node) => stringOf(decodeMessage(bytesOf(node)).get(4)?.[0]))
    expect(ops).toEqual(["Equal", "If", "Equal", "If", "Equal", "If"])
  })

  it("refuses to merge programs that bake different weights under one name", () => {
    const a = compileProgram(program(1), { b: bias }, compilerSettings, { w: weight })
    const int8 = quantiseWeight(new Float32Array(ROWS * COLS).fill(0.5), [ROWS, COLS], "int8", 32)
    const b = compileProgram(program(1), { b: bias }, compilerSettings, { w: int8 })
    expect(() => mergeGroup([a, b])).toThrow(/bake different "param:w:codes"/)
  })
})
