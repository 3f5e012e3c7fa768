/**
 * int4 weights read from the decode steps' pre-packed blobs
 * (runtime/prepacked-layout.ts, runtime/prepacked-reads.ts,
 * `CompileOptions.readPrepacked`).
 *
 * - The layout, stated here index by index (independently of `toTiled`'s
 *   loops), on rows that fill one tile and leave two; `tiledLayoutOf` finds
 *   a blob made so and refuses one that differs by a byte or in its sizes.
 * - The compiler's dequantisation from such a blob (a blob file written
 *   here, on any CPU): x·Wᵀ and x·W (a backward pass's form) equal the same
 *   weight read from its natural codes bit for bit, mapped or (a session
 *   holding in-memory data) read into memory.
 * - Through the backend with the real store (onnxruntime's own blobs): the
 *   same outputs with `readPrepacked` as without, and the store records the
 *   layout where this CPU's blobs have it (on another CPU the entry has none
 *   and the program reads the codes: said, not failed).
 */
import { add, Graph, hostTensor, matmul, quantiseWeight, toFloat64, transposeLast2, type BlockQuantisedWeight, type Program } from "@refine-af/tensor"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { encodeModel } from "../src/onnx/model.ts"
import { tiledLayoutOf, toTiled } from "../src/runtime/prepacked-layout.ts"
import { storeSignature } from "../src/runtime/prepacked-store.ts"
import { withBackend } from "./support/run.ts"

const folders: Array<string> = []
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})

const nibble = (codes: Uint8Array, row: number, cols: number, value: number) => (codes[(row * cols + value) >> 1]! >> ((value & 1) * 4)) & 0x0f

/** An int4 weight [rows, cols] in blocks of `block` with varied codes and scales. */
const weightOf = (rows: number, cols: number, phase = 0, block = 32) =>
  quantiseWeight(new Float32Array(Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37 + phase) * (1 + (i % 7)))), [rows, cols], "int4", block) as BlockQuantisedWeight

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

describe("the pre-packed int4 layout", () => {
  it.each([32, 64, 128])("blocks of %i: units of 128 values, rows in tiles of 4 then the rest, value j low and j + 64 high; scales in the units' order", (block) => {
    const [rows, cols] = [6, 256]
    const w = weightOf(rows, cols, 0, block)
    const tiled = toTiled(w.codes, bytesOf(w.scales), rows, cols, block)
    const scales = new Float32Array(tiled.scales.buffer, tiled.scales.byteOffset, tiled.scales.byteLength / 4)
    // Unit order: tile 0 (rows 0-3) unit 0 rows 0..3, unit 1 rows 0..3; then row 4 units 0, 1; row 5 units 0, 1.
    const order = [[0, 0], [1, 0], [2, 0], [3, 0], [0, 1], [1, 1], [2, 1], [3, 1], [4, 0], [4, 1], [5, 0], [5, 1]]
    const unitBlocks = 128 / block
    const rowBlocks = cols / block
    order.forEach(([row, unit], position) => {
      for (let j = 0; j < 64; j++) {
        const byte = tiled.codes[position * 64 + j]!
        expect([byte & 0x0f, byte >> 4]).toEqual([nibble(w.codes, row!, cols, unit! * 128 + j), nibble(w.codes, row!, cols, unit! * 128 + j + 64)])
      }
      for (let b = 0; b < unitBlocks; b++) expect(scales[position * unitBlocks + b]).toBe(w.scales[row! * rowBlocks + unit! * unitBlocks + b])
    })
    expect(scales).toHaveLength(order.length * unitBlocks)
    // Codes 768 bytes (aligned to 64), block sums for 16 columns × the row's blocks, then the scales.
    expect(tiled.scalesOffset).toBe(768 + 16 * rowBlocks * 4)
  })

  it("tiledLayoutOf finds a blob in that layout, and refuses one that differs by a byte, other sizes or other bits", () => {
    const [rows, cols] = [6, 256]
    const w = weightOf(rows, cols)
    const tiled = toTiled(w.codes, bytesOf(w.scales), rows, cols, 32)
    const blob = new Uint8Array(tiled.scalesOffset + tiled.scales.byteLength + 126)
    blob.set(tiled.codes, 0)
    blob.fill(0x5a, tiled.codes.byteLength, tiled.scalesOffset)
    blob.set(tiled.scales, tiled.scalesOffset)
    expect(tiledLayoutOf(blob, w.codes, bytesOf(w.scales), rows, cols, 4, 32)).toEqual({ codes: 0, scales: tiled.scalesOffset, unitBlocks: 4, tile: 4 })
    for (const at of [5, tiled.scalesOffset + 9]) {
      const changed = blob.slice()
      changed[at] = changed[at]! ^ 1
      expect(tiledLayoutOf(changed, w.codes, bytesOf(w.scales), rows, cols, 4, 32)).toBeUndefined()
    }
    expect(tiledLayoutOf(blob, w.codes, bytesOf(w.scales), rows, cols, 8, 32)).toBeUndefined()
    expect(tiledLayoutOf(blob, w.codes, bytesOf(w.scales), rows, cols, 4, 64)).toBeUndefined()
    // Blocks of 128: one scale per unit, found as such; blocks of 16 and 256 are layouts of their own, not read.
    const wide = weightOf(rows, cols, 0, 128)
    const wideTiled = toTiled(wide.codes, bytesOf(wide.scales), rows, cols, 128)
    const wideBlob = new Uint8Array(wideTiled.scalesOffset + wideTiled.scales.byteLength)
    wideBlob.set(wideTiled.codes, 0)
    wideBlob.set(wideTiled.scales, wideTiled.scalesOffset)
    expect(tiledLayoutOf(wideBlob, wide.codes, bytesOf(wide.scales), rows, cols, 4, 128)).toEqual({ codes: 0, scales: wideTiled.scalesOffset, unitBlocks: 1, tile: 4 })
    for (const block of [16, 256]) {
      const other = weightOf(rows, cols, 0, block)
      expect(tiledLayoutOf(wideBlob, other.codes, bytesOf(other.scales), rows, cols, 4, block)).toBeUndefined()
    }
    const narrow = weightOf(6, 96)
    expect(tiledLayoutOf(blob, narrow.codes, bytesOf(narrow.scales), 6, 96, 4, 32)).toBeUndefined()
    expect(tiledLayoutOf(blob.subarray(0, tiled.scalesOffset + 8), w.codes, bytesOf(w.scales), rows, cols, 4, 32)).toBeUndefined()
  })
})

/** `y = x·Wᵀ` (x [1, k]) or, `left`, `y = x·W` (x [1, n]: W untransposed, as a backward pass reads it). */
const productProgram = (n: number, k: number, left: boolean): Program => {
  const g = new Graph()
  const w = g.parameter("w", "float32", [n, k], { trainable: false })
  if (left) g.output("y", matmul(g.input("x", "float32", [1, n]), w))
  else g.output("y", matmul(g.input("x", "float32", [1, k]), transposeLast2(w)))
  return g.build()
}

/** Writes `weights` to `weights.bin` (natural layout) and `blob.bin` (the pre-packed layout) in a fresh folder. */
const writtenWeights = (weights: ReadonlyArray<BlockQuantisedWeight>) => {
  const folder = mkdtempSync(nodePath.join(tmpdir(), "refine-af-prepacked-reads-"))
  folders.push(folder)
  const natural: Array<Uint8Array> = [new Uint8Array(40)]
  const blob: Array<Uint8Array> = [new Uint8Array(4096)]
  let at = 40
  let blobAt = 4096
  const placed = weights.map((w) => {
    const [rows, cols] = w.shape as [number, number]
    const stored = { folder, file: "weights.bin", codesOffset: at, scalesOffset: at + w.codes.byteLength }
    natural.push(w.codes, bytesOf(w.scales))
    at += w.codes.byteLength + w.scales.byteLength
    const tiled = toTiled(w.codes, bytesOf(w.scales), rows, cols, w.blockSize)
    const bytes = new Uint8Array(Math.ceil((tiled.scalesOffset + tiled.scales.byteLength) / 4096) * 4096)
    bytes.set(tiled.codes, 0)
    bytes.set(tiled.scales, tiled.scalesOffset)
    blob.push(bytes)
    const source = { file: "blob.bin", codes: blobAt, scales: blobAt + tiled.scalesOffset }
    blobAt += bytes.byteLength
    return { weight: { ...w, stored } as BlockQuantisedWeight, source }
  })
  for (const [file, parts] of [["weights.bin", natural], ["blob.bin", blob]] as const) {
    writeFileSync(nodePath.join(folder, `${file}.tmp`), Buffer.concat(parts))
    renameSync(nodePath.join(folder, `${file}.tmp`), nodePath.join(folder, file))
  }
  return { folder, placed }
}

const runModel = async (program: Program, folder: string, weight: BlockQuantisedWeight, tiled: ReadonlyMap<string, { file: string; codes: number; scales: number }>, x: Float32Array) => {
  const model = compileProgram(program, {}, { externalThreshold: 1 << 20, float16Weights: false }, { w: weight }, [], [], true, tiled).onnx
  const files = new Set(model.graph.initializers.flatMap((t) => (t.external === undefined ? [] : [t.external.location])))
  const session = await ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: 1, logSeverityLevel: 3, extra: { session: { model_external_initializers_file_folder_path: folder } } })
  const y = (await session.run({ "in:x": new ort.Tensor("float32", x, [1, x.length]) }))["out:y"]!.data as Float32Array
  await session.release()
  return { y: [...y], files }
}

describe("dequantising from the pre-packed layout", () => {
  it.each([[22, 256, 32], [64, 128, 32], [3, 384, 32], [22, 256, 64], [7, 384, 128]])("W [%i, %i], blocks of %i: x·Wᵀ and x·W from the blob equal the natural codes' bit for bit", async (n, k, block) => {
    const { folder, placed } = writtenWeights([weightOf(n, k, n, block)])
    const { weight, source } = placed[0]!
    for (const left of [false, true]) {
      const x = new Float32Array(Array.from({ length: left ? n : k }, (_, i) => Math.cos(i * 0.13)))
      const fromCodes = await runModel(productProgram(n, k, left), folder, weight, new Map(), x)
      const fromBlob = await runModel(productProgram(n, k, left), folder, weight, new Map([["w", source]]), x)
      expect(fromCodes.files).toEqual(new Set(["weights.bin"]))
      expect(fromBlob.files).toEqual(new Set(["blob.bin"]))
      expect(fromBlob.y).toEqual(fromCodes.y)
      // And both are x·dequant(W)ᵀ (or x·dequant(W)), not a transposition of it.
      const values = toFloat64({ dtype: "float32", shape: [n, k], data: dequantised(weight) })
      const expected = left ? Array.from({ length: k }, (_, c) => x.reduce((s, v, r) => s + v * values[r * k + c]!, 0)) : Array.from({ length: n }, (_, r) => x.reduce((s, v, c) => s + v * values[r * k + c]!, 0))
      fromBlob.y.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-3 * (1 + Math.abs(expected[i]!))))
    }
  })
})

describe("held in memory instead", () => {
  it("a session that holds in-memory data reads the blob's bytes into memory: the same outputs", async () => {
    const [n, k] = [22, 256]
    const { weight, source } = writtenWeights([weightOf(n, k, 5)]).placed[0]!
    // A bias held in memory as external data (threshold 1 byte): the session then maps nothing (compile/mapped.ts).
    const g = new Graph()
    const x = g.input("x", "float32", [1, k])
    g.output("y", add(matmul(x, transposeLast2(g.parameter("w", "float32", [n, k], { trainable: false }))), g.parameter("b", "float32", [n], { trainable: false })))
    const program = g.build()
    const xs = new Float32Array(Array.from({ length: k }, (_, i) => Math.sin(i * 0.3)))
    const run = async (tiled: ReadonlyMap<string, { file: string; codes: number; scales: number }>) => {
      const compiled = compileProgram(program, { b: hostTensor("float32", [n], Array.from({ length: n }, (_, i) => i / 7)) }, { externalThreshold: 1, float16Weights: false }, { w: weight }, [], [], true, tiled)
      expect(compiled.mapped).toBeUndefined()
      const session = await ort.InferenceSession.create(encodeModel(compiled.onnx), { intraOpNumThreads: 1, logSeverityLevel: 3, externalData: compiled.bundle.externalData.map((d) => ({ path: d.path, data: d.data })) })
      const y = (await session.run({ "in:x": new ort.Tensor("float32", xs, [1, k]) }))["out:y"]!.data as Float32Array
      await session.release()
      return { y: [...y], held: compiled.bundle.externalData.map((d) => d.data.byteLength).sort((a, b) => a - b) }
    }
    const fromCodes = await run(new Map())
    const fromBlob = await run(new Map([["w", source]]))
    expect(fromBlob.y).toEqual(fromCodes.y)
    // The blob's parts in memory: 20 tile rows' codes and scales, 2 rest rows' codes and scales, and the bias.
    expect(fromBlob.held).toEqual([n * 4, 2 * 2 * 16, 2 * 2 * 64, 20 * 2 * 16, 20 * 2 * 64].sort((a, b) => a - b))
  })
})

/** The weight's float values from its natural codes (symmetric int4, offset 8). */
const dequantised = (w: BlockQuantisedWeight): Float32Array => {
  const [rows, cols] = w.shape as [number, number]
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = (nibble(w.codes, r, cols, c) - 8) * w.scales[r * (cols / w.blockSize) + Math.floor(c / w.blockSize)]!
  return out
}

describe("through the backend and its store", () => {
  it("readPrepacked: the same outputs as reading the codes; the store records where the blobs hold the codes", async () => {
    const { placed, folder } = writtenWeights([weightOf(22, 256, 1), weightOf(64, 128, 2), weightOf(13, 256, 3, 64), weightOf(18, 384, 4, 128)])
    const outputs = (readPrepacked: boolean) =>
      withBackend((backend) =>
        Effect.gen(function* () {
          const ys: Array<Array<number>> = []
          for (const [i, { weight }] of placed.entries()) {
            const [n, k] = weight.shape as [number, number]
            for (const left of [false, true]) {
              const exe = yield* backend.compile(productProgram(n, k, left), { quantised: { w: weight }, readStored: true, ...(readPrepacked ? { readPrepacked } : {}) })
              const out = yield* backend.run(exe, { x: hostTensor("float32", [1, left ? n : k], Array.from({ length: left ? n : k }, (_, j) => Math.sin(j + i))) })
              ys.push([...toFloat64(yield* backend.download(out.y!))])
            }
          }
          return ys
        })
      )
    const fromCodes = await outputs(false)
    const fromBlobs = await outputs(true)
    expect(fromBlobs).toEqual(fromCodes)
    const index = JSON.parse(readFileSync(nodePath.join(folder, `prepacked-${storeSignature()}.json`), "utf8")) as { format: number; entries: Record<string, { tiled?: { codes: number; scales: number } }> }
    expect(index.format).toBe(3)
    const entries = Object.values(index.entries)
    expect(entries).toHaveLength(4)
    const tiled = entries.filter((e) => e.tiled !== undefined)
    if (tiled.length === 0) console.log(`onnxruntime's pre-packed int4 form on this CPU (${storeSignature()}) is not the layout prepacked-layout.ts reads: the programs read the codes`)
    else expect(tiled).toHaveLength(4)
  })
})
