/**
 * Baked quantised weights with an on-disk copy (`BlockQuantisedWeight.stored`,
 * e.g. the quantised-weight cache): onnxruntime maps their codes and scales
 * from the file instead of holding a copy of the bytes in memory. To see
 * which bytes a session reads, the file here holds the codes and scales of
 * ANOTHER weight (breaking the `stored` contract on purpose): a mapped
 * program then computes with that weight. A stored copy that is missing or
 * too short falls back to the bytes in memory, and so does a program that
 * also holds in-memory external data (onnxruntime then looks every external
 * initializer up in memory).
 */
import { add, Graph, hostTensor, matmul, quantiseWeight, toFloat64, transposeLast2, type BackendService, type BlockQuantisedWeight } from "@refine-af/tensor"
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { mergeGroup } from "../src/compile/group.ts"
import { withBackend } from "./support/run.ts"

const ROWS = 48
const COLS = 96

/** y = x·Wᵀ + b, W int4 (MatMulNBits), `rows` rows of x. */
const program = (rows: number) => {
  const g = new Graph()
  const x = g.input("x", "float32", [rows, COLS])
  const w = g.parameter("w", "float32", [ROWS, COLS], { trainable: false })
  const b = g.parameter("b", "float32", [ROWS], { trainable: false })
  g.output("y", add(matmul(x, transposeLast2(w)), b))
  return g.build()
}

const quantised = (phase: number) => quantiseWeight(new Float32Array(Array.from({ length: ROWS * COLS }, (_, i) => Math.sin(i * 0.37 + phase) * (1 + (i % 5)))), [ROWS, COLS], "int4", 32) as BlockQuantisedWeight
const inMemory = quantised(0)
const onDisk = quantised(1.5)
const bias = hostTensor("float32", [ROWS], Array.from({ length: ROWS }, (_, i) => Math.cos(i)))
const xOf = (rows: number) => hostTensor("float32", [rows, COLS], Array.from({ length: rows * COLS }, (_, i) => Math.cos(i * 0.11 + rows)))

// The file: some leading bytes (offsets need not be aligned), onDisk's codes, a gap, its scales.
const folder = mkdtempSync(nodePath.join(tmpdir(), "refine-af-mapped-"))
const LEAD = 13
const GAP = 7
const scaleBytes = new Uint8Array(onDisk.scales.buffer, onDisk.scales.byteOffset, onDisk.scales.byteLength)
const file = new Uint8Array(LEAD + onDisk.codes.byteLength + GAP + scaleBytes.byteLength)
file.set(onDisk.codes, LEAD)
file.set(scaleBytes, LEAD + onDisk.codes.byteLength + GAP)
writeFileSync(nodePath.join(folder, "weights.bin"), file)
const stored = { folder, file: "weights.bin", codesOffset: LEAD, scalesOffset: LEAD + onDisk.codes.byteLength + GAP }
afterAll(() => rmSync(folder, { recursive: true, force: true }))

// The default threshold keeps the small bias inside the model; 64 bytes sends it to in-memory external data.
const settings = {}
const biasInMemory = { externalThreshold: 64 }
const compile = (weight: BlockQuantisedWeight, threshold = 1 << 20) => compileProgram(program(1), { b: bias }, { externalThreshold: threshold, float16Weights: false }, { w: weight })

const yOf = (backend: BackendService, weight: BlockQuantisedWeight, rows: number, group?: string) =>
  Effect.gen(function* () {
    const exe = yield* backend.compile(program(rows), { constants: { b: bias }, quantised: { w: weight }, ...(group !== undefined ? { group } : {}) })
    const out = yield* backend.run(exe, { x: xOf(rows) })
    return [...toFloat64(yield* backend.download(out.y!))]
  })

describe("baked quantised weights mapped from their stored copy", () => {
  it("a session reads the codes and scales at the stored offsets (alone, grouped, in a worker), not the bytes in memory", async () => {
    const expected = await withBackend((backend) => Effect.forEach([1, 8], (rows) => yOf(backend, onDisk, rows)), settings)
    const unmapped = await withBackend((backend) => Effect.forEach([1, 8], (rows) => yOf(backend, inMemory, rows)), settings)
    expect(unmapped[0]).not.toEqual(expected[0])
    const mapped = { ...inMemory, stored }
    expect(await withBackend((backend) => Effect.forEach([1, 8], (rows) => yOf(backend, mapped, rows)), settings)).toEqual(expected)
    expect(await withBackend((backend) => Effect.forEach([1, 8], (rows) => yOf(backend, mapped, rows, "family")), settings)).toEqual(expected)
    expect(await withBackend((backend) => Effect.forEach([1, 8], (rows) => yOf(backend, mapped, rows, "family")), { ...settings, worker: true })).toEqual(expected)
  })

  it("the compiled model points the initializers at the file and keeps no copy of their bytes; a group keeps them pointed there", () => {
    const compiled = [1, 8].map((rows) => compileProgram(program(rows), { b: bias }, { externalThreshold: 1 << 20, float16Weights: false }, { w: { ...inMemory, stored } }))
    const first = compiled[0]!
    expect(first.bundle.folder).toBe(folder)
    const initializers = new Map(first.onnx.graph.initializers.map((t) => [t.name, t]))
    expect(initializers.get("param:w:codes")?.external).toEqual({ location: "weights.bin", offset: stored.codesOffset, length: inMemory.codes.byteLength })
    expect(initializers.get("param:w:scales")?.external).toEqual({ location: "weights.bin", offset: stored.scalesOffset, length: inMemory.scales.byteLength })
    expect(first.bundle.externalData).toEqual([])
    const merged = mergeGroup(compiled)
    expect(merged.folder).toBe(folder)
    expect(merged.externalData).toEqual([])
  })

  it("a stored copy that is missing or shorter than the weight is not used: the bytes in memory are baked", async () => {
    const expected = await withBackend((backend) => yOf(backend, inMemory, 1), settings)
    const missing = { ...inMemory, stored: { ...stored, file: "absent.bin" } }
    const beyondEnd = { ...inMemory, stored: { ...stored, codesOffset: file.byteLength - 4, scalesOffset: file.byteLength - 4 } }
    for (const weight of [missing, beyondEnd]) {
      expect(await withBackend((backend) => yOf(backend, weight, 1), settings)).toEqual(expected)
      expect(compile(weight).bundle.folder).toBeUndefined()
    }
  })

  it("readStored: a baked weight read from its stored copy computes exactly what the same weight bound computes, and the session holds none of it", async () => {
    const run = (weight: (backend: BackendService) => Effect.Effect<BlockQuantisedWeight | Effect.Success<ReturnType<BackendService["uploadQuantised"]>>, unknown>, readStored: boolean) =>
      withBackend((backend) =>
        Effect.forEach([1, 8], (rows) =>
          Effect.gen(function* () {
            const exe = yield* backend.compile(program(rows), { constants: { b: bias }, quantised: { w: yield* weight(backend) }, readStored })
            const out = yield* backend.run(exe, { x: xOf(rows) })
            return [...toFloat64(yield* backend.download(out.y!))]
          })
        ), settings)
    // Bound: the stored-copy weight's own bytes uploaded and dequantised by each run.
    const bound = await run((backend) => backend.uploadQuantised(onDisk), false)
    // Read from the file (which holds onDisk's bytes, not inMemory's): the same numbers.
    expect(await run(() => Effect.succeed({ ...inMemory, stored }), true)).toEqual(bound)
    // Without readStored the same weight runs as MatMulNBits (int8 activations): other numbers.
    expect(await run(() => Effect.succeed({ ...inMemory, stored }), false)).not.toEqual(bound)
    const compiled = compileProgram(program(1), { b: bias }, { externalThreshold: 1 << 20, float16Weights: false }, { w: { ...inMemory, stored } }, [], [], true)
    expect(compiled.bundle.folder).toBe(folder)
    expect(compiled.bundle.externalData).toEqual([])
    expect(compiled.onnx.graph.nodes.map((n) => n.opType)).not.toContain("MatMulNBits")
    expect(compiled.onnx.graph.nodes.map((n) => n.opType)).toContain("DequantizeLinear")
    expect(compiled.onnx.graph.initializers.find((t) => t.name === "param:w:codes")?.external).toEqual({ location: "weights.bin", offset: stored.codesOffset, length: inMemory.codes.byteLength })
    // A weight whose stored copy is not on disk is baked as usual.
    const missing = compileProgram(program(1), { b: bias }, { externalThreshold: 1 << 20, float16Weights: false }, { w: { ...inMemory, stored: { ...stored, file: "absent.bin" } } }, [], [], true)
    expect(missing.onnx.graph.nodes.map((n) => n.opType)).toContain("MatMulNBits")
  })

  it("a program or group that also holds in-memory external data holds the stored weights in memory too", async () => {
    const mapped = { ...inMemory, stored }
    // The bias goes to in-memory external data: the codes and scales follow it there.
    expect(await withBackend((backend) => yOf(backend, mapped, 1), biasInMemory)).toEqual(await withBackend((backend) => yOf(backend, inMemory, 1), settings))
    const alone = compile(mapped, 64)
    expect(alone.bundle.folder).toBeUndefined()
    expect(alone.bundle.externalData.map((e) => e.data.byteLength).sort((a, b) => a - b)).toEqual([bias.data.byteLength, inMemory.scales.byteLength, inMemory.codes.byteLength].sort((a, b) => a - b))
    // Members mapping from two folders: the group holds every member's bytes in memory.
    const elsewhere = nodePath.join(folder, "elsewhere")
    mkdirSync(elsewhere)
    writeFileSync(nodePath.join(elsewhere, "weights.bin"), file)
    const merged = mergeGroup([compile(mapped), compile({ ...inMemory, stored: { ...stored, folder: elsewhere } })])
    expect(merged.folder).toBeUndefined()
    expect(merged.externalData.map((e) => e.data.byteLength).sort((a, b) => a - b)).toEqual([inMemory.scales.byteLength, inMemory.codes.byteLength].sort((a, b) => a - b))
  })
})

describe("baked float32 constants mapped from their stored copy (HostTensor.stored)", () => {
  // y = x·Wᵀ + b with W a float32 constant, x [rows, COLS] or (negative rows) [2, -rows, COLS]; the file holds
  // ANOTHER W's values at an unaligned offset.
  const xShape = (rows: number) => (rows > 0 ? [rows, COLS] : [2, -rows, COLS])
  const float32Program = (rows: number) => {
    const g = new Graph()
    const x = g.input("x", "float32", xShape(rows))
    const w = g.parameter("w", "float32", [ROWS, COLS], { trainable: false })
    const b = g.parameter("b", "float32", [ROWS], { trainable: false })
    g.output("y", add(matmul(x, transposeLast2(w)), b))
    return g.build()
  }
  const values = (phase: number) => hostTensor("float32", [ROWS, COLS], Array.from({ length: ROWS * COLS }, (_, i) => Math.sin(i * 0.29 + phase)))
  const heldW = values(0)
  const fileW = values(2)
  const LEAD_F32 = 5
  const bytes = new Uint8Array(LEAD_F32 + fileW.data.byteLength)
  bytes.set(new Uint8Array(fileW.data.buffer), LEAD_F32)
  writeFileSync(nodePath.join(folder, "float32.bin"), bytes)
  const storedW = { ...heldW, stored: { folder, file: "float32.bin", offset: LEAD_F32 } }
  const yWith = (w: typeof heldW, readStored: boolean, rowsList: ReadonlyArray<number> = [1, 8, -5], extra: Record<string, unknown> = {}) =>
    withBackend((backend) =>
      Effect.forEach(rowsList, (rows) =>
        Effect.gen(function* () {
          const exe = yield* backend.compile(float32Program(rows), { constants: { w, b: bias }, readStored })
          const shape = xShape(rows)
          const out = yield* backend.run(exe, { x: hostTensor("float32", shape, Array.from({ length: shape.reduce((a, d) => a * d, 1) }, (_, i) => Math.cos(i * 0.11 + rows))) })
          return [...toFloat64(yield* backend.download(out.y!))]
        })
      ), { ...settings, ...extra })

  it("readStored: the session reads the file's values as they are (x·Wᵀ as Gemm with transB: no transposed copy, no pre-packing), at 1, 8 and 2 × 5 rows, alone and in a worker", async () => {
    const expected = await yWith(fileW, false)
    expect(await yWith(heldW, false)).not.toEqual(expected)
    const readAsIs = await yWith(storedW, true)
    readAsIs.forEach((y, i) => y.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 4)))
    expect(await yWith(storedW, true, [1, 8, -5], { worker: true })).toEqual(readAsIs)
    const compiled = compileProgram(float32Program(1), { w: storedW, b: bias }, { externalThreshold: 1 << 20, float16Weights: false }, {}, [], [], true)
    expect(compiled.bundle.folder).toBe(folder)
    expect(compiled.bundle.mappedAsIs).toBe(true)
    expect(compiled.bundle.externalData).toEqual([])
    expect(compiled.onnx.graph.initializers.find((t) => t.name === "param:w")?.external).toEqual({ location: "float32.bin", offset: LEAD_F32, length: heldW.data.byteLength })
    // W is read by a Gemm as it is, never transposed (onnxruntime would make the transposed copy at session creation).
    for (const rows of [1, -5]) {
      const nodes = compileProgram(float32Program(rows), { w: storedW, b: bias }, { externalThreshold: 1 << 20, float16Weights: false }, {}, [], [], true).onnx.graph.nodes
      expect(nodes.filter((n) => n.inputs.includes("param:w")).map((n) => [n.opType, n.attributes])).toEqual([["Gemm", [{ name: "transB", int: 1 }]]])
    }
  })

  it("without readStored the constant is still baked from the file (onnxruntime may fold and pre-pack it); a missing file bakes the values in memory", async () => {
    const expected = await yWith(fileW, false)
    const baked = await yWith(storedW, false)
    baked.forEach((y, i) => y.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 4)))
    const compiled = compileProgram(float32Program(1), { w: storedW, b: bias }, { externalThreshold: 1 << 20, float16Weights: false }, {}, [], [], false)
    expect(compiled.bundle.folder).toBe(folder)
    expect(compiled.bundle.mappedAsIs).toBeUndefined()
    const missing = { ...heldW, stored: { folder, file: "absent.bin", offset: 0 } }
    expect(await yWith(missing, true)).toEqual(await yWith(heldW, true))
    expect(compileProgram(float32Program(1), { w: missing, b: bias }, { externalThreshold: 1 << 20, float16Weights: false }, {}, [], [], true).bundle.mappedAsIs).toBeUndefined()
  })

  it("a stored constant is never read to compile or key a program that maps it", async () => {
    let reads = 0
    const lazy = { dtype: "float32" as const, shape: heldW.shape, stored: storedW.stored, get data() { reads += 1; return heldW.data } }
    const y = await yWith(lazy, true, [1])
    expect(y).toEqual((await yWith(storedW, true)).slice(0, 1))
    expect(reads).toBe(0)
  })
})
