/**
 * Host tensors: the plain-memory values a {@link Backend} takes in and hands
 * back. One typed array per dtype, row-major:
 *
 * | dtype   | data           |
 * |---------|----------------|
 * | float32 | Float32Array   |
 * | float64 | Float64Array   |
 * | float16 | Uint16Array (IEEE half bit patterns) |
 * | int32   | Int32Array     |
 * | int64   | BigInt64Array  |
 * | bool    | Uint8Array (0/1) |
 *
 * @example
 * ```ts
 * import { hostTensor, toFloat64 } from "@refine-af/tensor"
 * const x = hostTensor("float32", [2, 2], [1, 2, 3, 4])
 * const back = toFloat64(x) // Float64Array [1, 2, 3, 4]
 * ```
 */
import type { DType, Shape } from "../ir.ts"
import { sizeOf } from "../ir.ts"
import { float16ToNumber, numberToFloat16 } from "./float16.ts"

/** The typed array behind each dtype. */
export interface HostDataOf {
  readonly float32: Float32Array
  readonly float64: Float64Array
  readonly float16: Uint16Array
  readonly int32: Int32Array
  readonly int64: BigInt64Array
  readonly bool: Uint8Array
}

/** Any host typed array. */
export type HostData = HostDataOf[DType]

/**
 * Where a tensor's bytes also lie on disk: `file` in `folder`, from byte
 * `offset`, row-major, little-endian, the same values as `data`. The file
 * must never change in place (written once, only ever replaced by a rename:
 * a reader that mapped the old one keeps it).
 */
export interface StoredTensor {
  readonly folder: string
  /** File name inside `folder`. */
  readonly file: string
  readonly offset: number
}

/** A tensor in host memory. */
export interface HostTensor {
  readonly dtype: DType
  readonly shape: Shape
  readonly data: HostData
  /**
   * A copy of `data` on disk. A backend that maps files
   * (`BackendService.mapsStoredWeights`) may bake the tensor as that file's
   * bytes instead of copying `data`, and a holder may then read `data` from
   * the file only when something asks for it (model-llama's quantised-weight
   * cache does, for the weights it keeps at float32).
   */
  readonly stored?: StoredTensor
}

const ELEMENT_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, int32: 4, int64: 8, bool: 1 }

/** Bytes of a tensor's values, from its dtype and shape alone (a stored tensor's `data` may be read from disk when asked). */
export const hostByteLength = (tensor: Pick<HostTensor, "dtype" | "shape">): number => sizeOf(tensor.shape) * ELEMENT_BYTES[tensor.dtype]

/** Allocates a zero-filled typed array of `dtype`. */
export const allocate = (dtype: DType, size: number): HostData => {
  switch (dtype) {
    case "float32":
      return new Float32Array(size)
    case "float64":
      return new Float64Array(size)
    case "float16":
      return new Uint16Array(size)
    case "int32":
      return new Int32Array(size)
    case "int64":
      return new BigInt64Array(size)
    case "bool":
      return new Uint8Array(size)
  }
}

/**
 * Builds a host tensor of `dtype` from numbers (converted: float16 rounds to
 * half precision, ints truncate, bool is `x !== 0`). Throws a RangeError when
 * `values.length` does not match the shape.
 */
export const hostTensor = (dtype: DType, shape: Shape, values: ArrayLike<number>): HostTensor => {
  const size = sizeOf(shape)
  if (values.length !== size) {
    throw new RangeError(`hostTensor: ${values.length} values for shape [${shape.join(",")}] (${size} elements)`)
  }
  const data = allocate(dtype, size)
  for (let i = 0; i < size; i++) {
    const v = values[i]!
    if (data instanceof BigInt64Array) data[i] = BigInt(Math.trunc(v))
    else if (dtype === "float16") data[i] = numberToFloat16(v)
    else if (dtype === "bool") data[i] = v !== 0 ? 1 : 0
    else data[i] = v
  }
  return { dtype, shape: [...shape], data }
}

/** The values of a host tensor as float64 (float16 decoded, int64 via Number, bool 0/1). */
export const toFloat64 = (tensor: HostTensor): Float64Array => {
  const out = new Float64Array(tensor.data.length)
  const data = tensor.data
  for (let i = 0; i < out.length; i++) {
    if (data instanceof BigInt64Array) out[i] = Number(data[i]!)
    else if (tensor.dtype === "float16") out[i] = float16ToNumber(data[i]!)
    else out[i] = data[i]!
  }
  return out
}
