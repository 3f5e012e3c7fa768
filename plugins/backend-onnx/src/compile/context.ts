/**
 * The state a lowering writes into while one IR program becomes one ONNX graph:
 * emitted nodes, initializers, and the IR-node → ONNX-value name map.
 */
import type { DType, NodeId } from "@refine-af/tensor"
import type { OnnxAttribute, OnnxElementType, OnnxNode, OnnxTensor } from "../onnx/model.ts"
import { encodeValues } from "./constants.ts"

/** ONNX element type of an IR dtype (identical names, kept explicit for the type checker). */
export const onnxType = (dtype: DType): OnnxElementType => dtype

/** Accumulates the ONNX graph for one program. */
export class LoweringContext {
  readonly nodes: Array<OnnxNode> = []
  readonly initializers: Array<OnnxTensor> = []
  private readonly names = new Map<NodeId, string>()
  private fresh = 0
  // Values made once per program (`once`): onnxruntime keeps every node of a session resident (tens of KiB
  // per bound-weight reader of a 1.1B program), so repeats cost.
  private readonly onceValues = new Map<string, string>()

  /** Binds the ONNX value name of an IR node (called before the node is lowered). */
  bind(id: NodeId, name: string): void {
    this.names.set(id, name)
  }

  /** ONNX value name of an IR node's output. */
  name(id: NodeId): string {
    const bound = this.names.get(id)
    if (bound !== undefined) return bound
    const name = `%${id}`
    this.names.set(id, name)
    return name
  }

  /** ONNX value names of a node's inputs. */
  inputs(node: { readonly inputs: ReadonlyArray<NodeId> }): Array<string> {
    return node.inputs.map((i) => this.name(i))
  }

  /** A fresh name for an intermediate value that has no IR node. */
  temp(hint: string): string {
    this.fresh += 1
    return `%${hint}.${this.fresh}`
  }

  /** Emits one ONNX node. */
  emit(opType: string, inputs: ReadonlyArray<string>, outputs: ReadonlyArray<string>, attributes: ReadonlyArray<OnnxAttribute> = []): void {
    this.nodes.push({ opType, inputs, outputs, ...(attributes.length > 0 ? { attributes } : {}) })
  }

  /** Adds an initializer from numbers (converted to `dtype`) and returns its name. */
  constant(hint: string, dtype: DType, dims: ReadonlyArray<number>, values: ArrayLike<number>): string {
    return this.rawConstant(hint, onnxType(dtype), dims, encodeValues(dtype, values))
  }

  /** An initializer of raw little-endian bytes. */
  rawConstant(hint: string, dataType: OnnxElementType, dims: ReadonlyArray<number>, raw: Uint8Array): string {
    const name = this.temp(hint)
    this.initializers.push({ name, dataType, dims, raw })
    return name
  }

  /** The value `make` emits for `key`, emitted once per program (e.g. a tie to one activation read by several nodes). */
  once(key: string, make: () => string): string {
    const known = this.onceValues.get(key)
    if (known !== undefined) return known
    const name = make()
    this.onceValues.set(key, name)
    return name
  }

  /** An int64 1-D initializer (shapes, axes, pads, slice bounds). */
  int64s(hint: string, values: ReadonlyArray<number>): string {
    return this.constant(hint, "int64", [values.length], values)
  }

  /** A scalar initializer of `dtype`. */
  scalar(hint: string, dtype: DType, value: number): string {
    return this.constant(hint, dtype, [], [value])
  }
}
