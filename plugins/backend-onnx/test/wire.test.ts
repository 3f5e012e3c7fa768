import { describe, expect, it } from "vitest"
import { encodeModel } from "../src/onnx/model.ts"
import { readInitializers } from "../src/onnx/read.ts"
import { ProtoWriter } from "../src/onnx/wire.ts"
import { bytesOf, decodeMessage, intOf, packedInts, stringOf } from "./support/proto-decode.ts"

describe("ProtoWriter", () => {
  it("encodes varints (incl. negative int64 and values past 2^32) that an independent reader decodes", () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, -1, -2, -(2 ** 40)]
    const w = new ProtoWriter()
    values.forEach((v, i) => w.varint(i + 1, v))
    const fields = decodeMessage(w.finish())
    values.forEach((v, i) => expect(intOf(fields.get(i + 1)?.[0])).toBe(v))
  })

  it("encodes the textbook example 150 as 08 96 01", () => {
    const w = new ProtoWriter()
    w.varint(1, 150)
    expect(Array.from(w.finish())).toEqual([0x08, 0x96, 0x01])
  })

  it("nests messages and keeps large byte chunks intact", () => {
    const big = Uint8Array.from({ length: 1000 }, (_, i) => i % 251)
    const inner = new ProtoWriter()
    inner.string(1, "héllo")
    inner.bytes(2, big)
    inner.packedVarints(3, [1, -1, 300])
    const outer = new ProtoWriter()
    outer.varint(1, 7)
    outer.message(2, inner)
    outer.float32(3, 1.5)
    const top = decodeMessage(outer.finish())
    expect(intOf(top.get(1)?.[0])).toBe(7)
    const nested = decodeMessage(bytesOf(top.get(2)?.[0]))
    expect(stringOf(nested.get(1)?.[0])).toBe("héllo")
    expect(Array.from(bytesOf(nested.get(2)?.[0]))).toEqual(Array.from(big))
    expect(packedInts(nested.get(3)?.[0])).toEqual([1, -1, 300])
    const f = top.get(3)?.[0]
    expect(f !== undefined && "fixed" in f ? new DataView(f.fixed.buffer).getFloat32(0, true) : NaN).toBe(1.5)
  })
})

describe("encodeModel", () => {
  it("writes ModelProto fields at the onnx.proto numbers (ir_version 1, graph 7, opset_import 8)", () => {
    const bytes = encodeModel({
      irVersion: 8,
      opsetVersion: 18,
      producerName: "test",
      graph: {
        name: "g",
        nodes: [{ opType: "Relu", inputs: ["x"], outputs: ["y"], attributes: [{ name: "axis", int: -1 }] }],
        inputs: [{ name: "x", dataType: "float32", dims: [2, 3] }],
        outputs: [{ name: "y", dataType: "float32", dims: [2, 3] }],
        initializers: [{ name: "c", dataType: "int64", dims: [2], raw: new Uint8Array(16) }]
      }
    })
    const model = decodeMessage(bytes)
    expect(intOf(model.get(1)?.[0])).toBe(8)
    const opset = decodeMessage(bytesOf(model.get(8)?.[0]))
    expect(intOf(opset.get(2)?.[0])).toBe(18)
    const graph = decodeMessage(bytesOf(model.get(7)?.[0]))
    const node = decodeMessage(bytesOf(graph.get(1)?.[0]))
    expect(stringOf(node.get(4)?.[0])).toBe("Relu")
    const attribute = decodeMessage(bytesOf(node.get(5)?.[0]))
    expect(stringOf(attribute.get(1)?.[0])).toBe("axis")
    expect(intOf(attribute.get(3)?.[0])).toBe(-1)
    expect(intOf(attribute.get(20)?.[0])).toBe(2) // AttributeType.INT
    const initializer = decodeMessage(bytesOf(graph.get(5)?.[0]))
    expect(packedInts(initializer.get(1)?.[0])).toEqual([2])
    expect(intOf(initializer.get(2)?.[0])).toBe(7) // INT64
    const input = decodeMessage(bytesOf(graph.get(11)?.[0]))
    expect(stringOf(input.get(1)?.[0])).toBe("x")
  })
})

describe("readInitializers", () => {
  it("reads back each main-graph initializer's name and external_data entries in order, skipping every other field", () => {
    const model = encodeModel({
      irVersion: 8,
      opsetVersion: 18,
      producerName: "test",
      graph: {
        name: "g",
        nodes: [{ opType: "Add", inputs: ["x", "w"], outputs: ["y"], attributes: [{ name: "alpha", float: 0.5 }, { name: "n", int: -3 }] }],
        inputs: [{ name: "x", dataType: "float32", dims: [2, 3] }],
        outputs: [{ name: "y", dataType: "float32", dims: [2, 3] }],
        initializers: [
          { name: "w", dataType: "float32", dims: [2, 3], raw: new Uint8Array(24).fill(7) },
          { name: "codes·é", dataType: "uint8", dims: [4, 2 ** 33], external: { location: "store.bin", offset: 2 ** 40 + 1, length: 96, entries: [["prepacked_0", "MatMulNBits+123|4096;8192;0|12288;4;0"]] } }
        ]
      }
    })
    expect(readInitializers(model)).toEqual([
      { name: "w", external: [] },
      { name: "codes·é", external: [["location", "store.bin"], ["offset", String(2 ** 40 + 1)], ["length", "96"], ["prepacked_0", "MatMulNBits+123|4096;8192;0|12288;4;0"]] }
    ])
  })

  it("refuses a truncated model", () => {
    const model = encodeModel({ irVersion: 8, opsetVersion: 18, producerName: "t", graph: { name: "g", nodes: [], inputs: [], outputs: [], initializers: [{ name: "w", dataType: "float32", dims: [1], external: { location: "a.bin", offset: 0, length: 4 } }] } })
    expect(() => readInitializers(model.subarray(0, model.length - 3))).toThrow(/truncated/)
  })
})
