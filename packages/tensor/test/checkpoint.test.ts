/**
 * Gradient checkpointing (`Graph.checkpoint`): the same gradients as without
 * it, and a backward pass that reads no value computed inside a segment from
 * the segment's inputs (those are rebuilt after the cotangent reaches them).
 */
import { describe, expect, it } from "vitest"
import * as T from "../src/index.ts"

const LAYERS = 3
const WIDTH = 4

/** A residual MLP stack: h ← h + W2·tanh(W1·h ⊙ σ(h)), each layer optionally checkpointed. */
const build = (checkpoint: boolean) => {
  const g = new T.Graph()
  const x = g.input("x", "float64", [2, WIDTH])
  const shared = g.parameter("shared", "float64", [WIDTH])
  let h = T.mul(x, 1.5)
  for (let l = 0; l < LAYERS; l++) {
    const layer = (input: T.Tensor) => {
      const w1 = g.parameter(`w1.${l}`, "float64", [WIDTH, WIDTH])
      const w2 = g.parameter(`w2.${l}`, "float64", [WIDTH, WIDTH])
      // The same weights-only expression in every layer: one node per segment, not one for all.
      const gated = T.mul(T.add(T.matmul(input, w1), T.exp(shared)), T.sigmoid(input))
      // A weights-only subexpression inside the segment: not recomputed.
      const w2s = T.mul(w2, 0.5)
      return T.add(input, T.matmul(T.tanh(gated), w2s))
    }
    h = checkpoint ? g.checkpoint([h], () => layer(h)) : layer(h)
  }
  const loss = T.sum(T.mul(h, h))
  const params = g.parameterList().map((p) => g.tensor(p.id))
  const grads = T.gradients(loss, [...params, x])
  g.output("loss", loss)
  params.forEach((p, i) => g.output(`grad/${g.parameterList()[i]!.name}`, grads[i]!))
  g.output("grad/x", grads[params.length]!)
  return { g, loss, program: g.build() }
}

const feeds = (() => {
  let s = 7
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5
  const f: Record<string, Array<number>> = { x: Array.from({ length: 2 * WIDTH }, next), shared: Array.from({ length: WIDTH }, next) }
  for (let l = 0; l < LAYERS; l++) {
    f[`w1.${l}`] = Array.from({ length: WIDTH * WIDTH }, next)
    f[`w2.${l}`] = Array.from({ length: WIDTH * WIDTH }, next)
  }
  return f
})()

/**
 * Forward nodes (id ≤ loss) that the backward (id > loss) reads, and that
 * are computed inside a segment (activations, and weights-only values such as
 * a scaled weight: either would stay alive from one pass to the other).
 */
const interiorValuesReadByBackward = (g: T.Graph, program: T.Program, lossId: number, segments: ReadonlyArray<T.CheckpointSegment>) => {
  const interior = new Set<number>()
  for (const s of segments) for (let id = s.first; id < s.end; id++) if (g.node(id).inputs.length > 0) interior.add(id)
  const read = new Set<number>()
  for (const n of program.nodes) if (n.id > lossId) for (const i of n.inputs) if (i <= lossId && interior.has(i)) read.add(i)
  // A segment's last node is its result: the next layer reads it anyway.
  for (const s of segments) read.delete(s.end - 1)
  return [...read]
}

describe("Graph.checkpoint", () => {
  it("gives the gradients of the plain graph (float64 interpreter)", () => {
    const plain = T.interpret(build(false).program, feeds)
    const checkpointed = T.interpret(build(true).program, feeds)
    expect(Object.keys(checkpointed).sort()).toEqual(Object.keys(plain).sort())
    // The loss and every per-layer weight's gradient are bit for bit the same; the weight read by
    // every layer sums its per-segment gradients in another order (one node per segment).
    for (const name of Object.keys(plain)) {
      if (name === "grad/shared") expect(T.relativeError(checkpointed[name]!.data, plain[name]!.data)).toBeLessThan(1e-14)
      else expect(Array.from(checkpointed[name]!.data), name).toEqual(Array.from(plain[name]!.data))
    }
  })

  it("leaves no value computed inside a segment (activation or weights-only) to the backward pass", () => {
    const plain = build(false)
    const checkpointed = build(true)
    const segments = checkpointed.g.checkpointSegments()
    expect(segments).toHaveLength(LAYERS)
    // The same ranges without checkpointing: the backward reads interior values (what the test would catch).
    expect(interiorValuesReadByBackward(plain.g, plain.program, plain.loss.id, segments).length).toBeGreaterThan(0)
    expect(interiorValuesReadByBackward(checkpointed.g, checkpointed.program, checkpointed.loss.id, segments)).toEqual([])
    // Recomputation happens once per segment: one extra sigmoid and tanh per layer, no more.
    const count = (p: T.Program, op: string) => T.eliminateDeadCode(p).nodes.filter((n) => n.op === op).length
    expect(count(checkpointed.program, "Tanh") - count(plain.program, "Tanh")).toBe(LAYERS)
    expect(count(checkpointed.program, "Sigmoid") - count(plain.program, "Sigmoid")).toBe(LAYERS)
  })

  it("rejects nested segments and non-float inputs", () => {
    const g = new T.Graph()
    const x = g.input("x", "float32", [2])
    const ids = g.input("ids", "int64", [2])
    expect(() => g.checkpoint([x], () => g.checkpoint([x], () => T.exp(x)))).toThrow(/do not nest/)
    expect(() => g.checkpoint([ids], () => T.cast(ids, "float32"))).toThrow(/checkpoint inputs are float/)
    // A failed body leaves no open segment behind.
    expect(() => g.checkpoint([x], () => T.exp(x))).not.toThrow()
  })
})

describe("after", () => {
  it("is x exactly, whatever the token holds, and depends on the token", () => {
    const g = new T.Graph()
    const x = g.input("x", "float32", [3])
    const token = g.input("token", "float32", [2, 2])
    const y = T.after(x, token)
    expect(y.id).not.toBe(x.id)
    g.output("y", y)
    const p = g.build()
    const reads = new Set<number>()
    const visit = (id: number) => {
      if (reads.has(id)) return
      reads.add(id)
      for (const i of p.nodes[id]!.inputs) visit(i)
    }
    visit(y.id)
    expect(reads.has(token.id)).toBe(true)
    for (const first of [0, -2, Number.NaN, Number.POSITIVE_INFINITY]) {
      const out = T.interpret(p, { x: [1.25, -0, 3e30], token: [first, 1, 2, 3] })
      expect(Array.from(out.y!.data)).toEqual([1.25, 0, 3e30])
    }
  })
})
