/**
 * Reading int4 weights from onnxruntime's pre-packed form.
 *
 * A decode step computes an int4 weight with `MatMulNBits` (int8
 * activations, `accuracy_level` 4) from the blob onnxruntime pre-packs it
 * into; the backend's store keeps that blob in a file (`prepacked-store.ts`).
 * Prefill, scoring, training and reference programs dequantise the same
 * weight in the graph from its stored codes and scales. Both are read on
 * every use, so a model whose decode steps are baked kept two copies of its
 * int4 weights resident: the codes and scales, and the blob (the codes, the
 * scales and a per-block sum of its own, 1.5× the codes).
 *
 * The blob holds the codes and scales themselves, reordered. On onnxruntime
 * 1.30's x64 kernels (read from the bytes it writes, measured on AVX-512)
 * with blocks of 32, 64 or 128 and rows of a multiple of 128 values:
 *
 * - units of one row's 128 values (64 bytes of codes; 4, 2 or 1 blocks, so
 *   as many scales): rows in tiles of 4, each tile unit by unit along the
 *   row, each unit row by row (`[tiles, units, 4]`); the rows past the last
 *   whole tile after, row by row, unit by unit (`[rest, units]`);
 * - inside a unit's 64 bytes, byte j holds value j (low nibble) and value
 *   j + 64 (high);
 * - the codes first, then the block sums (float32, columns in tiles of 16,
 *   padded: not read here), then the scales in the units' order.
 *
 * {@link tiledLayoutOf} checks a blob against that description byte for
 * byte (codes and scales given in the natural `[rows, blocks, 16]` /
 * `[rows, blocks]` layout) and gives where the two parts lie; a blob of
 * another layout (another CPU, another onnxruntime, other sizes) matches no
 * description and is not read this way (blocks of 16 and of 256 are
 * other layouts). `toTiled` writes the description's bytes (what the check
 * compares with; tests build blobs with it).
 */
import { closeSync, openSync } from "node:fs"
import * as nodePath from "node:path"
import { readAt } from "../compile/mapped.ts"
import type { OnnxAttribute } from "../onnx/model.ts"

/** Where a blob's codes and scales lie (byte offsets from the blob's start) and how they are ordered. */
export interface TiledLayout {
  readonly codes: number
  readonly scales: number
  /** Blocks per unit of 128 values (4, 2 or 1) and rows per tile (4). */
  readonly unitBlocks: number
  readonly tile: number
}

/** Values per unit (its codes are UNIT / 2 bytes) and rows per tile: the compiler's reading of a blob uses them too. */
export const UNIT = 128
export const TILE = 4
/** Bytes the block sums' start is aligned to. */
const ALIGN = 64
/** Columns per tile of the block sums. */
const SUM_TILE = 16

/** The sizes this reading applies to: 4-bit codes in blocks of 32, 64 or 128, rows of whole units. */
export const tiledApplies = (bits: number, blockSize: number, cols: number): boolean => bits === 4 && (blockSize === 32 || blockSize === 64 || blockSize === 128) && cols % UNIT === 0

/**
 * Natural `[rows, units, unit]` items (`unit` bytes each) in the blob's order:
 * `[tiles, units, TILE]` then the rest of the rows. `inner(row)` rewrites a unit
 * as it is copied (the codes' nibble order).
 */
const reorder = (natural: Uint8Array, rows: number, units: number, unit: number, inner?: (source: Uint8Array, from: number, target: Uint8Array, to: number) => void): Uint8Array => {
  const out = new Uint8Array(rows * units * unit)
  const whole = rows - (rows % TILE)
  let to = 0
  const copy = (row: number, u: number) => {
    const from = (row * units + u) * unit
    if (inner === undefined) out.set(natural.subarray(from, from + unit), to)
    else inner(natural, from, out, to)
    to += unit
  }
  for (let t = 0; t < whole; t += TILE) for (let u = 0; u < units; u++) for (let i = 0; i < TILE; i++) copy(t + i, u)
  for (let row = whole; row < rows; row++) for (let u = 0; u < units; u++) copy(row, u)
  return out
}

/**
 * One unit of 128 values: natural pairs (byte m: value 2m low, 2m + 1 high) → byte j: value j low, j + 64 high.
 * Two bytes at a time: values 2m and 2m + 1 are byte m's nibbles, values 2m + 64 and 2m + 65 byte m + 32's.
 */
const splitHalves = (source: Uint8Array, from: number, target: Uint8Array, to: number): void => {
  for (let m = 0; m < 32; m++) {
    const first = source[from + m]!
    const second = source[from + m + 32]!
    target[to + 2 * m] = (first & 0x0f) | ((second & 0x0f) << 4)
    target[to + 2 * m + 1] = (first >> 4) | (second & 0xf0)
  }
}

/** The codes and scales (natural layout, bytes) of blocks of `blockSize` in the blob's order, and the blob's scales offset. */
export const toTiled = (codes: Uint8Array, scales: Uint8Array, rows: number, cols: number, blockSize: number): { readonly codes: Uint8Array; readonly scales: Uint8Array; readonly scalesOffset: number } => {
  const units = cols / UNIT
  const unitBlocks = UNIT / blockSize
  const sums = Math.ceil(rows / SUM_TILE) * SUM_TILE * units * unitBlocks * 4
  return {
    codes: reorder(codes, rows, units, UNIT / 2, splitHalves),
    scales: reorder(scales, rows, units, unitBlocks * 4),
    scalesOffset: Math.ceil(codes.byteLength / ALIGN) * ALIGN + sums
  }
}

const equalAt = (blob: Uint8Array, offset: number, expected: Uint8Array): boolean => {
  if (offset + expected.byteLength > blob.byteLength) return false
  return Buffer.from(blob.buffer, blob.byteOffset + offset, expected.byteLength).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength))
}

/** Where `blob` (a pre-packed int4 weight) holds `codes` and `scales` in the layout above; undefined when it does not. */
export const tiledLayoutOf = (blob: Uint8Array, codes: Uint8Array, scales: Uint8Array, rows: number, cols: number, bits: number, blockSize: number): TiledLayout | undefined => {
  if (!tiledApplies(bits, blockSize, cols) || codes.byteLength !== (rows * cols) / 2 || scales.byteLength !== (rows * cols * 4) / blockSize) return undefined
  const tiled = toTiled(codes, scales, rows, cols, blockSize)
  if (!equalAt(blob, 0, tiled.codes) || !equalAt(blob, tiled.scalesOffset, tiled.scales)) return undefined
  return { codes: 0, scales: tiled.scalesOffset, unitBlocks: UNIT / blockSize, tile: TILE }
}

interface FileRange {
  readonly location: string
  readonly offset: number
  readonly length: number
}

const intOf = (attributes: ReadonlyArray<OnnxAttribute>, name: string): number | undefined => {
  const a = attributes.find((attribute) => attribute.name === name)
  return a !== undefined && "int" in a ? a.int : undefined
}

/**
 * Where the pre-packed blob `[from, size]` of the open file `data` holds a MatMulNBits weight's codes and scales
 * (read from their files in `folder`), when it is of int8 activations (`accuracy_level` 4) and in the layout above.
 */
export const tiledInFiles = (folder: string, weight: { readonly codes: { readonly external: FileRange }; readonly scales?: { readonly external: FileRange }; readonly attributes: ReadonlyArray<OnnxAttribute>; readonly k: number; readonly n: number }, data: number, [from, size]: readonly [number, number]): TiledLayout | undefined => {
  const bits = intOf(weight.attributes, "bits")
  const block = intOf(weight.attributes, "block_size")
  if (weight.scales === undefined || intOf(weight.attributes, "accuracy_level") !== 4 || bits === undefined || block === undefined || !tiledApplies(bits, block, weight.k)) return undefined
  const read = (r: FileRange) => {
    const fd = openSync(nodePath.join(folder, r.location), "r")
    try {
      return readAt(fd, r.offset, r.length)
    } finally {
      closeSync(fd)
    }
  }
  return tiledLayoutOf(readAt(data, from, size), read(weight.codes.external), read(weight.scales.external), weight.n, weight.k, bits, block)
}
