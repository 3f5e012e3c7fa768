/**
 * The subset of onnx.proto we emit, as plain TypeScript data, and its
 * encoder. Field numbers follow onnx/onnx.proto (IR version 8+).
 */
import { ProtoWriter } from "./wire.ts"

/** onnx.TensorProto.DataType values for the element types we use. */
export const OnnxDataType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11
} as const
export type OnnxElementType = keyof typeof OnnxDataType

/** A tensor constant. Either `raw` bytes (little-endian) or a pointer into an external data file. */
export interface OnnxTensor {
  readonly name: string
  readonly dataType: OnnxElementType
  readonly dims: ReadonlyArray<number>
  readonly raw?: Uint8Array
  readonly external?: {
    readonly location: string
    readonly offset: number
    readonly length: number
    /** Further `external_data` entries after these three (onnxruntime's `prepacked_*`: a kernel's pre-packed form of the weight, in the same file). */
    readonly entries?: ReadonlyArray<readonly [string, string]>
  }
}

/** A node attribute; the variant is picked by which value field is present. */
export type OnnxAttribute =
  | { readonly name: string; readonly int: number }
  | { readonly name: string; readonly float: number }
  | { readonly name: string; readonly string: string }
  | { readonly name: string; readonly ints: ReadonlyArray<number> }
  | { readonly name: string; readonly floats: ReadonlyArray<number> }
  | { readonly name: string; readonly tensor: OnnxTensor }
  | { readonly name: string; readonly graph: OnnxGraph }

export interface OnnxNode {
  readonly opType: string
  readonly inputs: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
  readonly name?: string
  readonly domain?: string
  readonly attributes?: ReadonlyArray<OnnxAttribute>
}

/** A graph input/output: name, element type and shape (a dimension of −1 is left unknown). */
export interface OnnxValueInfo {
  readonly name: string
  readonly dataType: OnnxElementType
  readonly dims: ReadonlyArray<number>
}

export interface OnnxGraph {
  readonly name: string
  readonly nodes: ReadonlyArray<OnnxNode>
  readonly inputs: ReadonlyArray<OnnxValueInfo>
  readonly outputs: ReadonlyArray<OnnxValueInfo>
  readonly initializers: ReadonlyArray<OnnxTensor>
}

export interface OnnxModel {
  readonly irVersion: number
  /** Version of the standard (`""`) domain. */
  readonly opsetVersion: number
  /** Other operator domains the graph uses, e.g. `{ domain: "com.microsoft", version: 1 }` for onnxruntime's contrib ops. */
  readonly extraOpsets?: ReadonlyArray<{ readonly domain: string; readonly version: number }>
  readonly producerName: string
  readonly graph: OnnxGraph
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1
const ATTR_INT = 2
const ATTR_STRING = 3
const ATTR_TENSOR = 4
const ATTR_GRAPH = 5
const ATTR_FLOATS = 6
const ATTR_INTS = 7

const encodeTensor = (t: OnnxTensor): ProtoWriter => {
  const w = new ProtoWriter()
  w.packedVarints(1, t.dims)
  w.varint(2, OnnxDataType[t.dataType])
  w.string(8, t.name)
  if (t.raw !== undefined) w.bytes(9, t.raw)
  if (t.external !== undefined) {
    const entry = (key: string, value: string) => {
      const e = new ProtoWriter()
      e.string(1, key)
      e.string(2, value)
      w.message(13, e)
    }
    entry("location", t.external.location)
    entry("offset", String(t.external.offset))
    entry("length", String(t.external.length))
    for (const [key, value] of t.external.entries ?? []) entry(key, value)
    w.varint(14, 1) // data_location = EXTERNAL
  }
  return w
}

const encodeAttribute = (a: OnnxAttribute): ProtoWriter => {
  const w = new ProtoWriter()
  w.string(1, a.name)
  if ("int" in a) {
    w.varint(3, a.int)
    w.varint(20, ATTR_INT)
  } else if ("float" in a) {
    w.float32(2, a.float)
    w.varint(20, ATTR_FLOAT)
  } else if ("string" in a) {
    w.string(4, a.string)
    w.varint(20, ATTR_STRING)
  } else if ("ints" in a) {
    w.packedVarints(8, a.ints)
    w.varint(20, ATTR_INTS)
  } else if ("floats" in a) {
    w.packedFloat32(7, a.floats)
    w.varint(20, ATTR_FLOATS)
  } else if ("graph" in a) {
    w.message(6, encodeGraph(a.graph))
    w.varint(20, ATTR_GRAPH)
  } else {
    w.message(5, encodeTensor(a.tensor))
    w.varint(20, ATTR_TENSOR)
  }
  return w
}

const encodeNode = (n: OnnxNode): ProtoWriter => {
  const w = new ProtoWriter()
  for (const i of n.inputs) w.string(1, i)
  for (const o of n.outputs) w.string(2, o)
  if (n.name !== undefined) w.string(3, n.name)
  w.string(4, n.opType)
  for (const a of n.attributes ?? []) w.message(5, encodeAttribute(a))
  if (n.domain !== undefined) w.string(7, n.domain)
  return w
}

const encodeValueInfo = (v: OnnxValueInfo): ProtoWriter => {
  const shape = new ProtoWriter()
  for (const d of v.dims) {
    const dim = new ProtoWriter()
    if (d >= 0) dim.varint(1, d)
    shape.message(1, dim)
  }
  const tensorType = new ProtoWriter()
  tensorType.varint(1, OnnxDataType[v.dataType])
  tensorType.message(2, shape)
  const type = new ProtoWriter()
  type.message(1, tensorType)
  const w = new ProtoWriter()
  w.string(1, v.name)
  w.message(2, type)
  return w
}

const encodeGraph = (g: OnnxGraph): ProtoWriter => {
  const w = new ProtoWriter()
  for (const n of g.nodes) w.message(1, encodeNode(n))
  w.string(2, g.name)
  for (const t of g.initializers) w.message(5, encodeTensor(t))
  for (const i of g.inputs) w.message(11, encodeValueInfo(i))
  for (const o of g.outputs) w.message(12, encodeValueInfo(o))
  return w
}

/** Serialises a model to ModelProto bytes, ready for `InferenceSession.create(bytes)`. */
export const encodeModel = (m: OnnxModel): Uint8Array => {
  const w = new ProtoWriter()
  w.varint(1, m.irVersion)
  w.string(2, m.producerName)
  w.message(7, encodeGraph(m.graph))
  const opset = new ProtoWriter()
  opset.string(1, "")
  opset.varint(2, m.opsetVersion)
  w.message(8, opset)
  for (const extra of m.extraOpsets ?? []) {
    const entry = new ProtoWriter()
    entry.string(1, extra.domain)
    entry.varint(2, extra.version)
    w.message(8, entry)
  }
  return w.finish()
}
