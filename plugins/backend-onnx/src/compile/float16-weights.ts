/** float32 weights → float16 initializer bytes (for the `float16Weights` compiler setting). */
import { numberToFloat16 } from "@refine-af/tensor"

/** Rounds each float32 to half precision; returns the little-endian bytes. */
export const toFloat16Bytes = (values: Float32Array): Uint8Array => {
  const half = new Uint16Array(values.length)
  for (let i = 0; i < values.length; i++) half[i] = numberToFloat16(values[i]!)
  return new Uint8Array(half.buffer)
}
