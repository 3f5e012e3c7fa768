/**
 * Builder passes: sharing (CSE), constant folding, dead-code elimination, hashing,
 * and interpreter values checked against hand computations.
 */
import { describe, expect, it } from "vitest"
import * as T from "../src/index.ts"

describe("graph building", () => {
  it("shares identical subexpressions and folds constants", () => {
    const g = new T.Graph()
    const x = g.input("x", "float32", [3])
    const a = T.exp(T.mul(x, 2))
    const b = T.exp(T.mul(x, 2))
    expect(a.id).toBe(b.id)
    const c = T.add(g.scalar(2, "float32"), g.scalar(3, "float32"))
    expect(g.node(c).op).toBe("Constant")
    expect(Array.from((g.node(c) as T.NodeOf<"Constant">).attrs.value)).toEqual([5])
  })

  it("drops dead nodes and keeps the program runnable", () => {
    const g = new T.Graph()
    const x = g.input("x", "float64", [2])
    T.sin(T.cos(x)) // dead
    g.output("y", T.exp(x))
    const p = T.eliminateDeadCode(g.build())
    expect(p.nodes.map((n) => n.op)).toEqual(["Input", "Exp"])
    expect(Array.from(T.interpret(p, { x: [0, 1] })["y"]!.data)).toEqual([1, Math.E])
  })

  it("hashes equal programs equally and different ones differently", () => {
    const make = (k: number) => {
      const g = new T.Graph()
      g.output("y", T.mul(g.input("x", "float32", [2]), k))
      return g.build()
    }
    expect(T.programHash(make(2))).toBe(T.programHash(make(2)))
    expect(T.programHash(make(2))).not.toBe(T.programHash(make(3)))
  })

  it("interprets a small program to hand-computed values", () => {
    const g = new T.Graph()
    const a = g.input("a", "float64", [2, 2])
    const b = g.input("b", "float64", [2, 1])
    g.output("mm", T.matmul(a, b))
    g.output("sm", T.softmax(a, 1))
    g.output("mx", T.max(a, 0))
    g.output("gt", T.gather(a, g.constant([1, 0, 1], "int64", [3]), 0))
    const out = T.interpret(g.build(), { a: [1, 2, 3, 4], b: [10, 100] })
    expect(Array.from(out["mm"]!.data)).toEqual([210, 430])
    const e = Math.exp(1)
    expect(out["sm"]!.data[0]).toBeCloseTo(1 / (1 + e), 15)
    expect(Array.from(out["mx"]!.data)).toEqual([3, 4])
    expect(Array.from(out["gt"]!.data)).toEqual([3, 4, 1, 2, 3, 4])
  })

  it("builds a 5000-node program quickly enough to be usable", () => {
    const g = new T.Graph()
    let x = g.input("x", "float32", [4, 8])
    for (let i = 0; i < 2500; i++) x = T.tanh(T.add(x, g.parameter(`p${i}`, "float32", [8])))
    g.output("y", x)
    expect(g.build().nodes.length).toBeGreaterThan(5000)
  })
})

describe("layout peepholes", () => {
  it("turns a transpose that only moves size-1 axes into a reshape, folds reshape chains, and keeps the values", () => {
    const g = new T.Graph()
    const x = g.input("x", "float32", [2, 1, 3, 4])
    const w = g.parameter("w", "float32", [1, 5])
    // [b, s = 1, heads, d] → [b, heads, s, d]: a decode step's heads.
    const heads = T.transpose(T.reshape(x, [2, 1, 3, 4]), [0, 2, 1, 3])
    const back = T.reshape(T.transpose(heads, [0, 2, 1, 3]), [2, 12])
    const swapped = T.transpose(x, [0, 1, 3, 2])
    const weight = T.transposeLast2(w)
    expect(g.node(heads).op).toBe("Reshape")
    expect(g.node(heads).inputs).toEqual([x.id])
    expect(g.node(back).op).toBe("Reshape")
    expect(g.node(back).inputs).toEqual([x.id])
    expect(g.node(swapped).op).toBe("Transpose")
    expect(g.node(weight).op).toBe("Transpose")
    g.output("heads", heads)
    g.output("back", back)
    g.output("swapped", swapped)
    g.output("weight", weight)
    const data = Array.from({ length: 24 }, (_, i) => i + 1)
    const out = T.interpret(g.build(), { x: data, w: [1, 2, 3, 4, 5] })
    // Row-major [2, 1, 3, 4] read as [2, 3, 1, 4]: the same sequence; the real transpose of the last two axes moves elements.
    expect(Array.from(out.heads!.data)).toEqual(data)
    expect(Array.from(out.back!.data)).toEqual(data)
    expect(Array.from(out.swapped!.data).slice(0, 5)).toEqual([1, 5, 9, 2, 6])
    expect(out.heads!.shape).toEqual([2, 3, 1, 4])
  })
})

describe("simplify", () => {
  it("shares, folds and drops no-ops in a hand-assembled program without changing results", () => {
    const f64 = { dtype: "float64" as const }
    const program: T.Program = {
      nodes: [
        { id: 0, op: "Input", inputs: [], attrs: { name: "x" }, ...f64, shape: [2] },
        { id: 1, op: "Constant", inputs: [], attrs: { value: Float64Array.from([1]) }, ...f64, shape: [] },
        { id: 2, op: "Mul", inputs: [0, 1], attrs: {}, ...f64, shape: [2] },
        { id: 3, op: "Exp", inputs: [2], attrs: {}, ...f64, shape: [2] },
        { id: 4, op: "Exp", inputs: [0], attrs: {}, ...f64, shape: [2] },
        { id: 5, op: "Add", inputs: [3, 4], attrs: {}, ...f64, shape: [2] },
        { id: 6, op: "Sin", inputs: [0], attrs: {}, ...f64, shape: [2] }
      ],
      inputs: [{ name: "x", id: 0 }],
      parameters: [],
      outputs: [{ name: "y", id: 5 }]
    }
    const simple = T.simplify(program)
    expect(simple.nodes.map((n) => n.op)).toEqual(["Input", "Exp", "Add"])
    const feeds = { x: [0.5, -1] }
    expect(Array.from(T.interpret(simple, feeds)["y"]!.data)).toEqual(Array.from(T.interpret(program, feeds)["y"]!.data))
  })
})

describe("validateProgram", () => {
  it("accepts built programs and reports each defect of a broken one", () => {
    const g = new T.Graph()
    const x = g.parameter("x", "float32", [2, 3])
    g.output("loss", T.sum(T.exp(x)))
    const good = T.grad(g.build(), "loss")
    expect(T.validateProgram(good)).toEqual([])
    const exp = good.nodes.findIndex((n) => n.op === "Exp")
    const broken: T.Program = {
      ...good,
      nodes: good.nodes.map((n) => (n.id === exp ? ({ ...n, shape: [3, 2] } as T.Node) : n)),
      outputs: [...good.outputs, { name: "loss", id: 999 }]
    }
    const problems = T.validateProgram(broken)
    expect(problems).toContain(`node ${exp} (Exp): recorded float32 [3,2] but the op infers float32 [2,3]`)
    expect(problems).toContain('output "loss" is declared twice')
    expect(problems).toContain('output "loss" points at missing node 999')
  })
})

describe("constant sharing", () => {
  it("keeps -0 and 0 apart", () => {
    const g = new T.Graph()
    const x = g.input("x", "float64", [1])
    g.output("pos", T.div(x, g.scalar(0, "float64")))
    g.output("neg", T.div(x, g.scalar(-0, "float64")))
    const out = T.interpret(g.build(), { x: [1] })
    expect([out["pos"]!.data[0], out["neg"]!.data[0]]).toEqual([Infinity, -Infinity])
  })
})
