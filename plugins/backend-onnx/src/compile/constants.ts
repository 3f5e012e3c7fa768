/**
 * Encodes values as ONNX little-endian raw_data bytes for each dtype.
 */
import type { DType, HostTensor } from "@refine-af/tensor"
import { hostTensor } from "@refine-af/tensor"

/** Raw little-endian bytes of numbers converted to `dtype` (the host is little-endian: x86 / arm). */
export const encodeValues = (dtype: DType, values: ArrayLike<number>): Uint8Array =>
  hostBytes(hostTensor(dtype, [values.length], values))

/** The bytes of a host tensor's typed array (a view, no copy). */
export const hostBytes = (tensor: HostTensor): Uint8Array =>
  new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)
