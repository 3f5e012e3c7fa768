/** Host tensors ↔ onnxruntime tensors (same typed arrays, no copy). */
import type { DType, HostTensor } from "@refine-af/tensor"
import * as ort from "onnxruntime-node"

const irDtypes: ReadonlySet<string> = new Set(["float32", "float16", "float64", "int32", "int64", "bool"])

/** Wraps a host tensor as an onnxruntime CPU tensor (shares the buffer). */
export const toOrtTensor = (tensor: HostTensor): ort.Tensor =>
  new ort.Tensor(tensor.dtype, tensor.data as never, [...tensor.shape])

/** The IR dtype of an onnxruntime tensor; throws for types the IR does not have. */
export const irDtype = (tensor: ort.Tensor): DType => {
  if (!irDtypes.has(tensor.type)) throw new Error(`onnxruntime returned a ${tensor.type} tensor, which the tensor IR has no dtype for`)
  return tensor.type as DType
}

/** Reads a CPU-resident onnxruntime tensor as a host tensor (shares the buffer). */
export const fromOrtTensor = (tensor: ort.Tensor): HostTensor => ({
  dtype: irDtype(tensor),
  shape: [...tensor.dims],
  data: tensor.data as HostTensor["data"]
})
