/**
 * float16 rounding in the interpreter against known binary16 facts.
 */
import { describe, expect, it } from "vitest"
import * as T from "../src/index.ts"

describe("float16 casts", () => {
  it("round to nearest even, with subnormals and overflow", () => {
    const g = new T.Graph()
    g.output("y", T.cast(g.input("x", "float64", [9]), "float16"))
    const x = [1 / 3, 65504, 65519, 65520, 2049, 2051, 1e-8, 2 ** -24, -0.1]
    const want = [0.333251953125, 65504, 65504, Infinity, 2048, 2052, 0, 2 ** -24, -0.0999755859375]
    expect(Array.from(T.interpret(g.build(), { x })["y"]!.data)).toEqual(want)
  })

  it("float16 constants hold float16 values", () => {
    const g = new T.Graph()
    const c = g.constant([0.1], "float16", [1])
    expect((g.node(c) as T.NodeOf<"Constant">).attrs.value[0]).toBe(0.0999755859375)
  })
})
