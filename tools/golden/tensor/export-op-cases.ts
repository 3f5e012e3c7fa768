/**
 * Writes the float64 conformance cases (forward programs + feeds) as JSON for
 * make_op_golden.py, which evaluates them with an independent PyTorch
 * implementation of the IR op semantics.
 *
 * Run: npx tsx tools/golden/tensor/export-op-cases.ts /tmp/op-cases.json
 */
import * as fs from "node:fs"
import { conformanceCases, programHash } from "@refine-af/tensor"

/** Cases per op in the golden file (small: the file is committed). */
export const goldenCasesPerOp = 20
/** Seed shared by the export and the test that reads the golden file. */
export const goldenSeed = 4242

const cases = conformanceCases({ dtype: "float64", perOp: goldenCasesPerOp, seed: goldenSeed }).map((c) => ({
  id: c.id,
  hash: programHash(c.forward),
  nodes: c.forward.nodes.map((n) => ({ ...n, attrs: n.op === "Constant" ? { value: Array.from(n.attrs.value) } : n.attrs })),
  outputs: c.forward.outputs,
  feeds: Object.fromEntries(Object.entries(c.feeds).map(([k, v]) => [k, { dtype: v.dtype, shape: v.shape, data: Array.from(v.data) }]))
}))
const out = process.argv[2] ?? "/tmp/op-cases.json"
fs.writeFileSync(out, JSON.stringify({ seed: goldenSeed, perOp: goldenCasesPerOp, cases }))
console.log(`wrote ${cases.length} cases to ${out}`)
