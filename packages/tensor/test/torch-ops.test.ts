/**
 * The interpreter's forward semantics of every op against an independent PyTorch
 * implementation of the IR (tools/golden/tensor/make_op_golden.py), on the seeded
 * conformance cases.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { conformanceCases, interpret, opCaseGenerators, programHash, relativeError } from "../src/index.ts"

interface OpGolden {
  readonly seed: number
  readonly perOp: number
  readonly cases: Readonly<Record<string, { hash: string; y: ReadonlyArray<number> }>>
}

const here = path.dirname(fileURLToPath(import.meta.url))
const golden = JSON.parse(fs.readFileSync(path.resolve(here, "../../../tools/golden/tensor/op_golden.json"), "utf8")) as OpGolden
const cases = conformanceCases({ dtype: "float64", perOp: golden.perOp, seed: golden.seed })

describe("interpreter vs PyTorch, every op", () => {
  it("the golden file covers every op and matches today's case generators", () => {
    const ops = new Set(cases.map((c) => c.op))
    for (const g of opCaseGenerators) expect(cases.filter((c) => c.op === g.op).length, g.op).toBeGreaterThanOrEqual(20)
    expect(ops.size).toBe(new Set(opCaseGenerators.map((g) => g.op)).size)
    for (const c of cases) {
      const want = golden.cases[c.id]
      expect(want, `${c.id} missing: regenerate with tools/golden/tensor/make_op_golden.py`).toBeDefined()
      expect(want!.hash, `${c.id} program changed: regenerate the golden file`).toBe(programHash(c.forward))
    }
  })

  for (const op of new Set(cases.map((c) => c.op))) {
    it(op, () => {
      for (const c of cases.filter((k) => k.op === op)) {
        const got = interpret(c.forward, c.feeds)["y"]!.data
        expect(relativeError(got, golden.cases[c.id]!.y), c.id).toBeLessThanOrEqual(1e-12)
      }
    })
  }
})
