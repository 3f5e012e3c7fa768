/**
 * The float64 reference interpreter: the executable spec of every op. Slow and
 * exact; every backend is checked against it.
 *
 * Values are row-major `Float64Array`s whatever the dtype (ints and bools are
 * stored exactly). Inputs AND parameters are fed by name.
 *
 * @example
 * ```ts
 * import { Graph, matmul, interpret } from "@refine-af/tensor"
 * const g = new Graph()
 * const x = g.input("x", "float64", [1, 2])
 * const w = g.parameter("w", "float64", [2, 1])
 * g.output("y", matmul(x, w))
 * const out = interpret(g.build(), { x: [1, 2], w: [3, 4] })
 * // out.y.data → Float64Array [11]
 * ```
 */
import { FeedError } from "./errors.ts"
import type { Program } from "./ir.ts"
import { sizeOf } from "./ir.ts"
import { opDef } from "./ops/registry.ts"
import type { Value } from "./ops/types.ts"

/** A fed value: a plain array / typed array (shape taken from the program) or a full Value. */
export type Feed = ArrayLike<number> | Value

/** Feeds by input/parameter name. */
export type Feeds = Readonly<Record<string, Feed>>

const isValue = (feed: Feed): feed is Value => "data" in feed && "shape" in feed

const toData = (name: string, feed: Feed, node: { readonly dtype: string; readonly shape: ReadonlyArray<number> }): ArrayLike<number> => {
  if (!isValue(feed)) return feed
  if (feed.dtype !== node.dtype) throw new FeedError({ name, message: `"${name}" is ${node.dtype}, but a ${feed.dtype} value was fed; cast it on the host first` })
  if (feed.shape.length !== node.shape.length || feed.shape.some((d, i) => d !== node.shape[i]))
    throw new FeedError({ name, message: `"${name}" has shape [${node.shape.join(",")}], but a value of shape [${feed.shape.join(",")}] was fed` })
  return feed.data
}

/** Runs `program` on `feeds`; returns every named output. Throws `FeedError` on a missing/mis-sized feed. */
export const interpret = (program: Program, feeds: Feeds): Record<string, Value> => {
  const values = new Array<Value | undefined>(program.nodes.length)
  const remainingUses = new Int32Array(program.nodes.length)
  for (const n of program.nodes) for (const i of n.inputs) remainingUses[i]!++
  const isOutput = new Set(program.outputs.map((o) => o.id))

  for (const node of program.nodes) {
    const type = { dtype: node.dtype, shape: node.shape }
    switch (node.op) {
      case "Input":
      case "Parameter": {
        const name = node.attrs.name
        const feed = feeds[name]
        if (feed === undefined) throw new FeedError({ name, message: `no value fed for ${node.op.toLowerCase()} "${name}" (${node.dtype} [${node.shape.join(",")}]); add it to the feeds` })
        const data = toData(name, feed, node)
        const n = sizeOf(node.shape)
        if (data.length !== n) throw new FeedError({ name, message: `"${name}" expects ${n} values for shape [${node.shape.join(",")}], got ${data.length}` })
        values[node.id] = { ...type, data: Float64Array.from(data) }
        break
      }
      case "Constant":
        values[node.id] = { ...type, data: node.attrs.value }
        break
      default: {
        const inputs = node.inputs.map((i) => values[i]!)
        const data = opDef(node.op).evaluate(inputs, node.attrs as never, type)
        values[node.id] = { ...type, data }
      }
    }
    for (const i of node.inputs) if (--remainingUses[i]! === 0 && !isOutput.has(i)) values[i] = undefined
  }
  const out: Record<string, Value> = {}
  for (const o of program.outputs) out[o.name] = values[o.id]!
  return out
}
