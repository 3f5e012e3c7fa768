/**
 * Every VJP rule against central finite differences (Richardson-extrapolated) in
 * float64 through the reference interpreter, on ≥ 20 random shapes per op.
 * The loss is a random projection Σ y·proj of the op output.
 */
import { describe, expect, it } from "vitest"
import { conformanceCases, eliminateDeadCode, gradName, interpret, opCaseGenerators, relativeError, type Value } from "../src/index.ts"

const H = 1e-3
const PER_OP = 24

const finiteDifference = (lossOf: (feeds: Record<string, Value>) => number, feeds: Record<string, Value>, name: string): Float64Array => {
  const base = feeds[name]!
  const out = new Float64Array(base.data.length)
  const at = (i: number, delta: number) => {
    const data = base.data.slice()
    data[i] = data[i]! + delta
    return lossOf({ ...feeds, [name]: { ...base, data } })
  }
  for (let i = 0; i < out.length; i++) {
    const d1 = (at(i, H) - at(i, -H)) / (2 * H)
    const d2 = (at(i, H / 2) - at(i, -H / 2)) / H
    out[i] = (4 * d2 - d1) / 3
  }
  return out
}

const differentiable = opCaseGenerators.filter((g) => g.differentiable).map((g) => g.op)

describe("VJP vs finite differences (float64)", () => {
  it("covers every differentiable op with at least 20 cases", () => {
    const cases = conformanceCases({ dtype: "float64", perOp: PER_OP, seed: 7 })
    for (const op of differentiable) expect(cases.filter((c) => c.op === op && c.gradient !== undefined).length, op).toBeGreaterThanOrEqual(20)
  })

  it("the finite-difference check detects a wrong gradient", () => {
    // d/dx Σ x² is 2x; claim 2.01x and the check must reject it.
    const x: Value = { dtype: "float64", shape: [3], data: Float64Array.from([0.3, -1.2, 2]) }
    const numeric = finiteDifference((f) => f["x"]!.data.reduce((a, v) => a + v * v, 0), { x }, "x")
    expect(relativeError(x.data.map((v) => 2 * v), numeric)).toBeLessThan(1e-9)
    expect(relativeError(x.data.map((v) => 2.01 * v), numeric)).toBeGreaterThan(1e-6)
  })

  for (const op of differentiable) {
    it(op, () => {
      const cases = conformanceCases({ dtype: "float64", ops: [op], seed: 7, perOp: PER_OP })
      let worst = 0
      for (const c of cases) {
        if (c.gradient === undefined) continue
        const lossProgram = eliminateDeadCode({ ...c.gradient, outputs: c.gradient.outputs.filter((o) => o.name === "loss") })
        const lossOf = (feeds: Record<string, Value>) => interpret(lossProgram, feeds)["loss"]!.data[0]!
        const analytic = interpret(c.gradient, c.gradientFeeds)
        for (const name of c.wrt) {
          const numeric = finiteDifference(lossOf, { ...c.gradientFeeds }, name)
          const err = relativeError(analytic[gradName(name)]!.data, numeric)
          worst = Math.max(worst, err)
          expect(err, `${c.id} d/d${name}`).toBeLessThanOrEqual(1e-6)
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-6)
    })
  }
})
