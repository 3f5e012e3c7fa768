/** IR dtype ↔ ONNX TensorProto.DataType codes. */
import type { DType } from "@refine-af/tensor"
import { OnnxDataType } from "../onnx/model.ts"

/** ONNX TensorProto.DataType code of an IR dtype. */
export const onnxTypeCode = (dtype: DType): number => OnnxDataType[dtype]
