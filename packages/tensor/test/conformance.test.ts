/**
 * The conformance harness itself: it passes the reference against itself, catches
 * a wrong backend, and honours expected failures.
 */
import { describe, expect, it } from "vitest"
import { interpret, runConformance, type Program, type Value } from "../src/index.ts"

describe("conformance harness", () => {
  it("the interpreter run at float32 conforms (forward + gradients)", async () => {
    const report = await runConformance((p, f) => interpret(p, f), { dtype: "float32", perOp: 3 })
    expect(report.failures).toEqual([])
    expect(report.results.length).toBeGreaterThan(150)
  })

  it("flags a backend with a wrong Exp and records expected failures", async () => {
    const wrongExp = (p: Program, feeds: Readonly<Record<string, Value>>) => {
      const out = interpret(p, feeds)
      if (!p.nodes.some((n) => n.op === "Exp")) return out
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { ...v, data: v.data.map((x) => x * 1.001) }]))
    }
    const plain = await runConformance(wrongExp, { dtype: "float32", perOp: 2, ops: ["Exp", "Add"] })
    expect(plain.failures.map((f) => f.op)).toEqual(["Exp", "Exp"])
    const marked = await runConformance(wrongExp, { dtype: "float32", perOp: 2, ops: ["Exp", "Add"], expectedFailures: { Exp: "known bug", Add: "not really" } })
    expect(marked.results.filter((r) => r.status === "expected-fail").length).toBe(2)
    expect(marked.failures.map((f) => f.status)).toEqual(["unexpected-pass", "unexpected-pass"])
  })

  it("reports a throwing backend as failures, not a crash", async () => {
    const report = await runConformance(() => {
      throw new Error("no kernel")
    }, { dtype: "float32", perOp: 1, ops: ["Sin"] })
    expect(report.failures[0]?.detail).toMatch(/threw: no kernel/)
  })
})
