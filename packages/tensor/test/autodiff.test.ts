/**
 * Autodiff API behaviour: pruning to what `wrt` needs, zero gradients for
 * unreachable tensors, accumulation over fan-out, and typed errors for misuse.
 */
import { describe, expect, it } from "vitest"
import * as T from "../src/index.ts"

describe("grad", () => {
  it("sums gradients over fan-out and gives zeros for unused parameters", () => {
    const g = new T.Graph()
    const x = g.parameter("x", "float64", [2])
    g.parameter("unused", "float64", [3])
    g.output("loss", T.sum(T.mul(T.mul(x, x), x))) // Σ x³ → 3x²
    const out = T.interpret(T.grad(g.build(), "loss"), { x: [2, -1], unused: [1, 2, 3] })
    expect(Array.from(out["grad/x"]!.data)).toEqual([12, 3])
    expect(Array.from(out["grad/unused"]!.data)).toEqual([0, 0, 0])
  })

  it("stopGradient treats its output as a constant", () => {
    const g = new T.Graph()
    const x = g.parameter("x", "float64", [2])
    g.output("loss", T.sum(T.mul(x, T.stopGradient(x)))) // d/dx = detached x, not 2x
    g.output("plain", T.sum(T.mul(x, T.identity(x))))
    const p = g.build()
    expect(Array.from(T.interpret(T.grad(p, "loss"), { x: [3, -1] })["grad/x"]!.data)).toEqual([3, -1])
    expect(Array.from(T.interpret(T.grad(p, "plain"), { x: [3, -1] })["grad/x"]!.data)).toEqual([6, -2])
  })

  it("only builds the backward pass that wrt needs", () => {
    const g = new T.Graph()
    const a = g.parameter("a", "float64", [4, 4])
    const b = g.parameter("b", "float64", [4, 4])
    g.output("loss", T.sum(T.matmul(T.tanh(a), b)))
    const onlyB = T.grad(g.build(), "loss", ["b"])
    const both = T.grad(g.build(), "loss", ["a", "b"])
    // d/db needs tanh(a)ᵀ·1 but never the tanh derivative.
    expect(onlyB.nodes.length).toBeLessThan(both.nodes.length)
    expect(onlyB.nodes.filter((n) => n.op === "Mul").length).toBeLessThan(both.nodes.filter((n) => n.op === "Mul").length)
  })

  it("rejects misuse with GradientError", () => {
    const g = new T.Graph()
    const x = g.parameter("x", "float64", [2])
    const i = g.input("i", "int64", [2])
    g.output("vec", T.exp(x))
    g.output("loss", T.sum(T.exp(x)))
    g.output("through_int", T.sum(T.cast(T.cast(x, "int32"), "float64")))
    const p = g.build()
    expect(() => T.grad(p, "nope")).toThrow(/no output named "nope"/)
    expect(() => T.grad(p, "vec")).toThrow(/loss must have one element/)
    expect(() => T.grad(p, "loss", ["missing"])).toThrow(/"missing" is not an input or parameter/)
    expect(() => T.gradients(g.tensor(p.outputs[1]!.id), [i])).toThrow(/only float tensors have gradients/)
    // Cast to int has a VJP that yields no gradient: the result is a zero gradient, not an error.
    const out = T.interpret(T.grad(p, "through_int", ["x"]), { x: [0.5, 1.5], i: [0, 0] })
    expect(Array.from(out["grad/x"]!.data)).toEqual([0, 0])
    try {
      T.grad(p, "nope")
    } catch (e) {
      expect(e).toBeInstanceOf(T.GradientError)
    }
  })

  it("reports non-differentiable ops on the path", () => {
    const g = new T.Graph()
    const x = g.parameter("x", "float64", [2])
    g.output("loss", T.sum(T.sign(x)))
    expect(() => T.grad(g.build(), "loss")).toThrow(/Sign \(node \d+\) has no gradient/)
  })
})

describe("interpreter feeds", () => {
  it("names the input and the problem", () => {
    const g = new T.Graph()
    g.output("y", T.exp(g.input("x", "float32", [2, 2])))
    const p = g.build()
    expect(() => T.interpret(p, {})).toThrow(/no value fed for input "x" \(float32 \[2,2\]\)/)
    expect(() => T.interpret(p, { x: [1, 2, 3] })).toThrow(/"x" expects 4 values/)
    expect(() => T.interpret(p, { x: { dtype: "float64", shape: [2, 2], data: new Float64Array(4) } })).toThrow(/"x" is float32, but a float64 value/)
    expect(() => T.interpret(p, { x: { dtype: "float32", shape: [4], data: new Float64Array(4) } })).toThrow(/shape \[2,2\], but a value of shape \[4\]/)
  })
})
