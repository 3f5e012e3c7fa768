/**
 * Frozen weights stored below float32: float16, or int8 / int4 block-wise
 * weight-only quantisation of a 2-D weight `W [rows, cols]` (Hugging Face
 * `nn.Linear` layout `[out, in]`, applied as `x·Wᵀ`). A backend bakes them in
 * place of the float32 value of a parameter (`CompileOptions.quantised`) and
 * computes with them where it can, dequantising otherwise.
 *
 * The int scheme is **symmetric, round to nearest**: each run of `blockSize`
 * values along a row (along `cols`, the reduction axis of `x·Wᵀ`) gets one
 * float32 scale `s = max|w| / qmax` (qmax = 127 for int8, 7 for int4) and
 * codes `q = clamp(round(w / s), -qmax, qmax)`, stored unsigned as
 * `q + 2^(bits-1)` so the implied zero point is 128 (int8) or 8 (int4) —
 * the default of onnxruntime's `MatMulNBits`, which needs no zero-point input.
 * `w ≈ (code - 2^(bits-1)) · s`. Codes are packed per row and block into
 * `blockSize · bits / 8` bytes; int4 puts the even element of a pair in the
 * low nibble. A last partial block is padded with zero codes' value (code 8 /
 * 128, i.e. w = 0).
 *
 * @example
 * ```ts
 * import { dequantiseWeight, quantiseWeight } from "@refine-af/tensor"
 * const w = new Float32Array([0.5, -1, 0.25, 1])
 * const q = quantiseWeight(w, [1, 4], "int4", 32)
 * const back = dequantiseWeight(q) // ≈ w, error ≤ scale / 2 per value
 * ```
 */
import type { Shape } from "../ir.ts"
import { float16ToNumber, numberToFloat16 } from "./float16.ts"

/** Storage precision of a frozen weight. */
export type WeightScheme = "float16" | "int8" | "int4"

/** A float32 weight stored as float16 bit patterns (any shape). */
export interface Float16Weight {
  readonly scheme: "float16"
  readonly shape: Shape
  readonly data: Uint16Array
}

/** A 2-D weight `[rows, cols]` quantised block-wise along `cols` (see the module doc). */
export interface BlockQuantisedWeight {
  readonly scheme: "int8" | "int4"
  /** `[rows, cols]`: the float32 shape it stands for. */
  readonly shape: Shape
  /** Values per block along `cols` (a power of two ≥ 16). */
  readonly blockSize: number
  /** Packed codes `[rows, blocks, blockSize · bits / 8]`, unsigned (offset 2^(bits-1)). */
  readonly codes: Uint8Array
  /** One scale per block `[rows, blocks]`. */
  readonly scales: Float32Array
  /**
   * Where the same codes and scales also lie on disk, if they do: a backend
   * may map them from there instead of copying them, and a holder may read
   * `codes` / `scales` from there only when they are used (model-llama's
   * quantised-weight cache does).
   */
  readonly stored?: StoredQuantisedWeight
}

/**
 * The on-disk copy of a block-quantised weight: byte offsets of its codes and
 * scales (the same bytes as in memory, in the same layout) inside `file` in
 * `folder`. The file must never change in place: it is written once and only
 * ever replaced by a rename (a reader that mapped the old one keeps it).
 */
export interface StoredQuantisedWeight {
  readonly folder: string
  /** File name inside `folder`. */
  readonly file: string
  readonly codesOffset: number
  readonly scalesOffset: number
}

/** A frozen weight in reduced precision. */
export type QuantisedWeight = Float16Weight | BlockQuantisedWeight

/** Bits per code of an int scheme. */
export const schemeBits = (scheme: "int8" | "int4"): 4 | 8 => (scheme === "int4" ? 4 : 8)

/** Blocks per row: `ceil(cols / blockSize)`. */
export const blocksPerRow = (cols: number, blockSize: number): number => Math.ceil(cols / blockSize)

/** Byte lengths of a block-quantised weight's codes and scales, from its shape (its codes may be on disk only: `stored`). */
export const quantisedPartBytes = (weight: Pick<BlockQuantisedWeight, "scheme" | "shape" | "blockSize">): { readonly codes: number; readonly scales: number } => {
  const [rows, cols] = weight.shape as [number, number]
  const blocks = rows * blocksPerRow(cols, weight.blockSize)
  return { codes: blocks * ((weight.blockSize * schemeBits(weight.scheme)) / 8), scales: blocks * 4 }
}

/** Bytes a quantised weight occupies (codes + scales, or the halves). */
export const quantisedBytes = (weight: QuantisedWeight): number => {
  if (weight.scheme === "float16") return weight.data.byteLength
  const parts = quantisedPartBytes(weight)
  return parts.codes + parts.scales
}

const roundHalfAway = (x: number): number => (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5))

/**
 * Quantises float32 values of a weight. `int8` / `int4` need a 2-D shape;
 * `blockSize` must be a power of two ≥ 16 (onnxruntime's requirement). Throws
 * a RangeError naming the problem otherwise.
 */
export const quantiseWeight = (values: Float32Array, shape: Shape, scheme: WeightScheme, blockSize = 32): QuantisedWeight => {
  const size = shape.reduce((a, b) => a * b, 1)
  if (values.length !== size) throw new RangeError(`quantiseWeight: ${values.length} values for shape [${shape.join(",")}]`)
  if (scheme === "float16") {
    const data = new Uint16Array(size)
    for (let i = 0; i < size; i++) data[i] = numberToFloat16(values[i]!)
    return { scheme, shape, data }
  }
  if (shape.length !== 2) throw new RangeError(`quantiseWeight: ${scheme} needs a 2-D weight [rows, cols], got [${shape.join(",")}]`)
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new RangeError(`quantiseWeight: block size ${blockSize} must be a power of two ≥ 16`)
  const [rows, cols] = shape as [number, number]
  const bits = schemeBits(scheme)
  const qmax = (1 << (bits - 1)) - 1
  const offset = 1 << (bits - 1)
  const blocks = blocksPerRow(cols, blockSize)
  const blob = (blockSize * bits) / 8
  const codes = new Uint8Array(rows * blocks * blob)
  const scales = new Float32Array(rows * blocks)
  const block = new Uint8Array(blockSize)
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      const start = r * cols + b * blockSize
      const end = r * cols + Math.min(cols, (b + 1) * blockSize)
      let absmax = 0
      for (let i = start; i < end; i++) absmax = Math.max(absmax, Math.abs(values[i]!))
      // Stored as float32, then used for the codes, so dequantisation reproduces what was rounded.
      const scale = Math.fround(absmax / qmax)
      scales[r * blocks + b] = scale
      block.fill(offset)
      if (scale > 0) {
        for (let i = start; i < end; i++) block[i - start] = Math.max(-qmax, Math.min(qmax, roundHalfAway(values[i]! / scale))) + offset
      }
      const at = (r * blocks + b) * blob
      if (bits === 8) codes.set(block, at)
      else for (let j = 0; j < blob; j++) codes[at + j] = block[2 * j]! | (block[2 * j + 1]! << 4)
    }
  }
  return { scheme, shape, blockSize, codes, scales }
}

/** The unsigned code of element `(row, col)` of a block-quantised weight. */
export const codeAt = (weight: BlockQuantisedWeight, row: number, col: number): number => {
  const bits = schemeBits(weight.scheme)
  const blocks = blocksPerRow(weight.shape[1]!, weight.blockSize)
  const blob = (weight.blockSize * bits) / 8
  const b = Math.floor(col / weight.blockSize)
  const within = col - b * weight.blockSize
  const at = (row * blocks + b) * blob
  if (bits === 8) return weight.codes[at + within]!
  const byte = weight.codes[at + (within >> 1)]!
  return within % 2 === 0 ? byte & 0x0f : byte >> 4
}

/** The float32 values a quantised weight stands for (the reference semantics every backend matches). */
export const dequantiseWeight = (weight: QuantisedWeight): Float32Array => {
  const size = weight.shape.reduce((a, b) => a * b, 1)
  const out = new Float32Array(size)
  if (weight.scheme === "float16") {
    for (let i = 0; i < size; i++) out[i] = float16ToNumber(weight.data[i]!)
    return out
  }
  const [rows, cols] = weight.shape as [number, number]
  const offset = 1 << (schemeBits(weight.scheme) - 1)
  const blocks = blocksPerRow(cols, weight.blockSize)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = (codeAt(weight, r, c) - offset) * weight.scales[r * blocks + Math.floor(c / weight.blockSize)]!
    }
  }
  return out
}
