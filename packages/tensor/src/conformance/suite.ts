/**
 * The conformance suite: the same seeded random cases for every backend, run
 * through a caller-supplied adapter and compared with the float64 interpreter.
 *
 * @example
 * ```ts
 * import { conformanceCases, runConformance, interpret } from "@refine-af/tensor"
 * const report = await runConformance((program, feeds) => interpret(program, feeds), { dtype: "float64", tolerance: 1e-12 })
 * // report.failures → []
 * ```
 */
import { interpret } from "../interpreter.ts"
import type { DType, OpName, Program } from "../ir.ts"
import type { Value } from "../ops/types.ts"
import { materialize, type ConformanceCase, type OpCaseGenerator } from "./case.ts"
import { elementwiseGenerators } from "./cases-elementwise.ts"
import { Rng } from "./random.ts"
import { structuralGenerators } from "./cases-structural.ts"

/** Every op generator. */
export const opCaseGenerators: ReadonlyArray<OpCaseGenerator> = [...elementwiseGenerators, ...structuralGenerators]

/** Options of {@link conformanceCases}. */
export interface CaseOptions {
  /** Float dtype of the case inputs (float64 for FD checks, float32 for backends). */
  readonly dtype: DType
  /** Cases per op (default 20). */
  readonly perOp?: number
  readonly seed?: number
  /** Restrict to these ops. */
  readonly ops?: ReadonlyArray<OpName>
}

/** Deterministic random cases, `perOp` for each op. */
export const conformanceCases = (options: CaseOptions): Array<ConformanceCase> => {
  const out: Array<ConformanceCase> = []
  for (const gen of opCaseGenerators) {
    if (options.ops !== undefined && !options.ops.includes(gen.op)) continue
    const rng = new Rng((options.seed ?? 1234) ^ hashString(gen.op))
    for (let i = 0; i < (options.perOp ?? 20); i++) out.push(materialize(gen, i, gen.make(rng, options.dtype), rng))
  }
  return out
}

/** A backend adapter: runs a program on feeds (by input name), returns outputs by name. */
export type RunProgram = (program: Program, feeds: Readonly<Record<string, Value>>) => Promise<Record<string, Value>> | Record<string, Value>

/** Options of {@link runConformance}. */
export interface RunOptions extends CaseOptions {
  /** Max norm-wise relative error allowed (default 1e-5). */
  readonly tolerance?: number
  /** Expected failures: op name or case id → reason. They must fail (else reported as unexpected passes). */
  readonly expectedFailures?: Readonly<Record<string, string>>
  /** Also run the gradient programs (default true). */
  readonly gradients?: boolean
  /**
   * Smallest reference magnitude errors are measured against (default 1e-6, i.e.
   * purely relative). Case inputs are O(1), so 1 turns the check into the usual
   * `|a − b| ≤ tol·max(|b|, 1)`, which stops nearly-cancelling sums (a scalar loss
   * Σ y·proj, a broadcast gradient sum) from failing on float32 rounding alone.
   */
  readonly scaleFloor?: number
}

/** Outcome of one case. */
export interface CaseResult {
  readonly id: string
  readonly op: OpName
  readonly status: "pass" | "fail" | "expected-fail" | "unexpected-pass"
  readonly detail: string
  readonly maxRelError: number
}

/** Summary of a conformance run. */
export interface ConformanceReport {
  readonly results: ReadonlyArray<CaseResult>
  /** Failures and unexpected passes (a conforming backend has none). */
  readonly failures: ReadonlyArray<CaseResult>
}

/** Norm-wise relative error ‖a − b‖∞ / max(‖b‖∞, floor); NaN mismatches count as Infinity. */
export const relativeError = (a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number => {
  if (a.length !== b.length) return Infinity
  let diff = 0
  let scale = 0
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity
    if (x === y) continue
    diff = Math.max(diff, Math.abs(x - y))
    scale = Math.max(scale, Math.abs(y))
  }
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!))
  return diff === 0 ? 0 : diff / Math.max(scale, floor)
}

const compare = (got: Record<string, Value>, want: Record<string, Value>, floor: number): { err: number; detail: string } => {
  let err = 0
  let detail = ""
  for (const [name, w] of Object.entries(want)) {
    const g = got[name]
    if (g === undefined) return { err: Infinity, detail: `missing output ${name}` }
    if (g.shape.length !== w.shape.length || g.shape.some((d, i) => d !== w.shape[i])) return { err: Infinity, detail: `${name}: shape [${g.shape}] vs [${w.shape}]` }
    const e = relativeError(g.data, w.data, floor)
    if (e > err) (err = e), (detail = `${name}: rel err ${e.toExponential(2)}`)
  }
  return { err, detail }
}

/** Runs every case through `run` and the interpreter, comparing outputs (and gradients). */
export const runConformance = async (run: RunProgram, options: RunOptions): Promise<ConformanceReport> => {
  const tolerance = options.tolerance ?? 1e-5
  const floor = options.scaleFloor ?? 1e-6
  const results: Array<CaseResult> = []
  for (const c of conformanceCases(options)) {
    const expected = options.expectedFailures?.[c.id] ?? options.expectedFailures?.[c.op]
    let err = 0
    let detail = ""
    try {
      const f = compare(await run(c.forward, c.feeds), interpret(c.forward, c.feeds), floor)
      ;({ err, detail } = f)
      if (c.gradient !== undefined && (options.gradients ?? true) && err <= tolerance) {
        const gr = compare(await run(c.gradient, c.gradientFeeds), interpret(c.gradient, c.gradientFeeds), floor)
        if (gr.err > err) ({ err, detail } = gr)
      }
    } catch (e) {
      err = Infinity
      detail = `threw: ${e instanceof Error ? e.message : String(e)}`
    }
    const ok = err <= tolerance
    const status = expected === undefined ? (ok ? "pass" : "fail") : ok ? "unexpected-pass" : "expected-fail"
    results.push({ id: c.id, op: c.op, status, detail: expected !== undefined && !ok ? `${detail} (expected: ${expected})` : detail, maxRelError: err })
  }
  return { results, failures: results.filter((r) => r.status === "fail" || r.status === "unexpected-pass") }
}

const hashString = (s: string): number => {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}
