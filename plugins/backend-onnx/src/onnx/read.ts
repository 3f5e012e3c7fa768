/**
 * Protocol-buffer wire format, read side: only what reading back a model
 * onnxruntime wrote needs — the main graph's initializers, each with its name
 * and `external_data` entries (where its bytes, and its pre-packed forms,
 * lie in the external file). Every other field is skipped by wire type.
 */

import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from "./wire.ts"

// ModelProto.graph, GraphProto.initializer, TensorProto.name / external_data, StringStringEntryProto.key / value.
const MODEL_GRAPH = 7
const GRAPH_INITIALIZER = 5
const TENSOR_NAME = 8
const TENSOR_EXTERNAL_DATA = 13
const ENTRY_KEY = 1
const ENTRY_VALUE = 2

const utf8 = new TextDecoder()

/** Calls `field(number, bytes)` for each length-delimited field of `message`; skips the others. Throws on a truncated message. */
const eachField = (message: Uint8Array, field: (number: number, bytes: Uint8Array) => void): void => {
  let at = 0
  const varint = (): number => {
    let value = 0
    let scale = 1
    for (;;) {
      if (at >= message.length) throw new Error("truncated protobuf varint")
      const byte = message[at++]!
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value
      scale *= 0x80
    }
  }
  while (at < message.length) {
    const tag = varint()
    const wire = tag % 8
    const number = Math.floor(tag / 8)
    if (wire === WIRE_VARINT) varint()
    else if (wire === WIRE_FIXED64) at += 8
    else if (wire === WIRE_FIXED32) at += 4
    else if (wire === WIRE_LENGTH_DELIMITED) {
      const length = varint()
      if (at + length > message.length) throw new Error("truncated protobuf field")
      field(number, message.subarray(at, at + length))
      at += length
    } else throw new Error(`unsupported protobuf wire type ${wire}`)
  }
  if (at > message.length) throw new Error("truncated protobuf field")
}

/** An initializer of a model's main graph: its name and its `external_data` entries in order (none when its bytes are inline). */
export interface InitializerEntries {
  readonly name: string
  readonly external: ReadonlyArray<readonly [string, string]>
}

/** The main graph's initializers of an encoded ONNX model. */
export const readInitializers = (model: Uint8Array): ReadonlyArray<InitializerEntries> => {
  const found: Array<InitializerEntries> = []
  eachField(model, (number, graph) => {
    if (number !== MODEL_GRAPH) return
    eachField(graph, (number, tensor) => {
      if (number !== GRAPH_INITIALIZER) return
      let name = ""
      const external: Array<readonly [string, string]> = []
      eachField(tensor, (number, bytes) => {
        if (number === TENSOR_NAME) name = utf8.decode(bytes)
        else if (number === TENSOR_EXTERNAL_DATA) {
          let key = ""
          let value = ""
          eachField(bytes, (number, text) => {
            if (number === ENTRY_KEY) key = utf8.decode(text)
            else if (number === ENTRY_VALUE) value = utf8.decode(text)
          })
          external.push([key, value])
        }
      })
      found.push({ name, external })
    })
  })
  return found
}
