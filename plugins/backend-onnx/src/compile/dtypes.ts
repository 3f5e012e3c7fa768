/** IR dtype ↔ ONNX TensorProto.DataType codes. */
import type { DType, HostTensor } from "@refine-af/tensor"
import { sizeOf } from "@refine-af/tensor"
import { OnnxDataType } from "../onnx/model.ts"

/** ONNX TensorProto.DataType code of an IR dtype. */
export const onnxTypeCode = (dtype: DType): number => OnnxDataType[dtype]

const ELEMENT_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, int32: 4, int64: 8, bool: 1 }

/** Bytes of a host tensor's values, from its dtype and shape (without reading `data`, which a stored tensor may read from disk). */
export const byteLengthOf = (tensor: Pick<HostTensor, "dtype" | "shape">): number => sizeOf(tensor.shape) * ELEMENT_BYTES[tensor.dtype]
