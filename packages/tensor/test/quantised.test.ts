/** The block-wise weight quantiser against hand-computed values and a float64 reference. */
import { describe, expect, it } from "vitest"
import { codeAt, dequantiseWeight, float16ToNumber, quantisedBytes, quantiseWeight, type BlockQuantisedWeight } from "../src/index.ts"

const int = (w: ReturnType<typeof quantiseWeight>) => w as BlockQuantisedWeight

describe("quantiseWeight", () => {
  it("int4: scale = max|w| / 7, codes q + 8, even element in the low nibble (hand-computed)", () => {
    // One row, one block of 16: max |w| = 1.4 → scale 0.2.
    const values = new Float32Array([1.4, -1.4, 0.2, 0.33, -0.13, 0, 0.75, -0.69, 0, 0, 0, 0, 0, 0, 0, 0.05])
    const q = int(quantiseWeight(values, [1, 16], "int4", 16))
    expect(q.scales[0]).toBe(Math.fround(1.4 / 7))
    // q = round(w / 0.2) → 7, -7, 1, 2 (1.65), -1 (-0.65), 0, 4 (3.75), -3 (-3.45), …, 0 (0.25)
    const expected = [7, -7, 1, 2, -1, 0, 4, -3, 0, 0, 0, 0, 0, 0, 0, 0].map((v) => v + 8)
    expect(Array.from({ length: 16 }, (_, c) => codeAt(q, 0, c))).toEqual(expected)
    expect(q.codes.length).toBe(8)
    expect(q.codes[0]).toBe(expected[0]! | (expected[1]! << 4)) // 15 | (1 << 4) = 0x1f
    expect(q.codes[0]).toBe(0x1f)
    expect(q.codes[1]).toBe(9 | (10 << 4))
  })

  it("int8: scale = max|w| / 127 per block, codes q + 128, one byte each", () => {
    const values = new Float32Array(32)
    values[0] = 2.54 // block 0: scale 0.02
    values[1] = -0.035 // → -1.75 → -2
    values[16] = -1.27 // block 1: scale 0.01
    values[17] = 0.007 // → 0.7 → 1
    const q = int(quantiseWeight(values, [1, 32], "int8", 16))
    expect(Array.from(q.scales)).toEqual([Math.fround(2.54 / 127), Math.fround(1.27 / 127)])
    expect([q.codes[0], q.codes[1], q.codes[2], q.codes[16], q.codes[17]]).toEqual([255, 126, 128, 1, 129])
  })

  it("round trip: every value within half a step of its block's scale, vs a float64 reference", () => {
    const rows = 5
    const cols = 100 // 3 full blocks of 32 + a partial one
    const values = new Float32Array(Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7) * Math.exp((i % 13) / 5)))
    for (const [scheme, qmax] of [["int8", 127], ["int4", 7]] as const) {
      const q = int(quantiseWeight(values, [rows, cols], scheme, 32))
      expect(q.scales.length).toBe(rows * 4)
      expect(q.codes.length).toBe(rows * 4 * (scheme === "int4" ? 16 : 32))
      const back = dequantiseWeight(q)
      for (let r = 0; r < rows; r++) {
        for (let b = 0; b < 4; b++) {
          let absmax = 0
          for (let c = b * 32; c < Math.min(cols, (b + 1) * 32); c++) absmax = Math.max(absmax, Math.abs(values[r * cols + c]!))
          const scale = absmax / qmax // float64 reference
          expect(q.scales[r * 4 + b]).toBeCloseTo(scale, 6)
          for (let c = b * 32; c < Math.min(cols, (b + 1) * 32); c++) {
            const err = Math.abs(back[r * cols + c]! - values[r * cols + c]!)
            expect(err).toBeLessThanOrEqual(scale / 2 + 1e-6 * absmax)
          }
        }
        // the padding of the partial block holds the zero code
        for (let c = cols; c < 128; c++) expect(codeAt({ ...q, shape: [rows, 128] }, r, c)).toBe(scheme === "int4" ? 8 : 128)
      }
      expect(quantisedBytes(q)).toBe(q.codes.byteLength + q.scales.byteLength)
    }
  })

  it("a block of zeros has scale 0 and dequantises to exact zeros", () => {
    const q = int(quantiseWeight(new Float32Array(64), [2, 32], "int4", 32))
    expect(Array.from(q.scales)).toEqual([0, 0])
    expect(Array.from(dequantiseWeight(q))).toEqual(new Array(64).fill(0))
  })

  it("float16 rounds each value to half", () => {
    const q = quantiseWeight(new Float32Array([1 / 3, 65504, -0.1]), [3], "float16")
    expect(Array.from(dequantiseWeight(q))).toEqual([0.333251953125, 65504, -0.0999755859375])
  })

  it("refuses a bad block size or a non-2-D int weight", () => {
    expect(() => quantiseWeight(new Float32Array(48), [1, 48], "int4", 24)).toThrow(/power of two/)
    expect(() => quantiseWeight(new Float32Array(8), [8], "int8")).toThrow(/2-D/)
  })
})
