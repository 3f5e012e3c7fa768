/**
 * Conformance of `CompileOptions.weights` (frozen weights bound to backend
 * tensors, shared by several executables) for any {@link BackendService}:
 * values match the float64 interpreter and the same weight baked as a
 * constant; two executables of different shapes share one bound tensor; a
 * bound weight is not a feed; misuse fails with the tagged error the
 * contract names.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, boundWeightsConformance } from "@refine-af/tensor"
 * const problems = Effect.flatMap(Backend.asEffect(), boundWeightsConformance)
 * // → [] for a conforming backend
 * ```
 */
import { Effect } from "effect"
import type { BackendService } from "../backend/Backend.ts"
import { hostTensor, toFloat64 } from "../backend/host-tensor.ts"
import { Graph } from "../graph.ts"
import { interpret } from "../interpreter.ts"
import { add, matmul, relu, transposeLast2 } from "../api.ts"

const IN = 3
const OUT = 4

const program = (rows: number) => {
  const g = new Graph()
  const x = g.input("x", "float32", [rows, IN])
  const w = g.parameter("w", "float32", [OUT, IN], { trainable: false })
  const b = g.parameter("b", "float32", [OUT], { trainable: false })
  g.output("y", relu(add(matmul(x, transposeLast2(w)), b)))
  return g.build()
}

const ws = Array.from({ length: OUT * IN }, (_, i) => Math.sin(1.3 * i) / 2)
const bs = [0.1, -0.2, 0.3, 0.05]
const xsOf = (rows: number) => Array.from({ length: rows * IN }, (_, i) => Math.cos(0.7 * i) * 2)

/** The tag of the error an effect fails with, or "success". */
const outcome = <A>(effect: Effect.Effect<A, { readonly _tag: string }>) =>
  Effect.match(effect, { onFailure: (error) => error._tag, onSuccess: () => "success" })

const maxRelError = (got: Float64Array, want: ArrayLike<number>) => {
  let worst = 0
  let scale = 1e-12
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!))
    scale = Math.max(scale, Math.abs(want[i]!))
  }
  return worst / scale
}

/** Runs the bound-weights contract checks; returns the problems found (none for a conforming backend). */
export const boundWeightsConformance = (backend: BackendService): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    const w = hostTensor("float32", [OUT, IN], ws)
    const b = hostTensor("float32", [OUT], bs)
    const bound = yield* backend.upload(w)
    for (const rows of [2, 5]) {
      const exe = yield* backend.compile(program(rows), { constants: { b }, weights: { w: bound } })
      const names = exe.feeds.map((f) => f.name)
      if (names.join(",") !== "x") problems.push(`rows ${rows}: feeds are [${names.join(", ")}], want [x] (a bound weight is not a feed)`)
      const x = hostTensor("float32", [rows, IN], xsOf(rows))
      const got = toFloat64(yield* backend.download((yield* backend.run(exe, { x })).y!))
      const want = interpret(program(rows), { x: xsOf(rows), w: ws, b: bs }).y!.data
      const error = maxRelError(got, want)
      if (!(error <= 1e-5)) problems.push(`rows ${rows}: bound-weight result differs from the float64 interpreter by ${error.toExponential(2)} (allowed 1e-5)`)
      const baked = yield* backend.compile(program(rows), { constants: { b, w } })
      const bakedOut = toFloat64(yield* backend.download((yield* backend.run(baked, { x })).y!))
      const vsBaked = maxRelError(got, bakedOut)
      if (!(vsBaked <= 1e-6)) problems.push(`rows ${rows}: bound-weight result differs from the baked one by ${vsBaked.toExponential(2)} (allowed 1e-6)`)
      const fedTwice = yield* outcome(backend.run(exe, { x, w }))
      if (fedTwice !== "BackendFeedError") problems.push(`feeding a bound weight at run failed with ${fedTwice}, want BackendFeedError`)
    }
    const wrongShape = yield* backend.upload(hostTensor("float32", [IN, OUT], ws))
    const misShaped = yield* outcome(backend.compile(program(2), { constants: { b }, weights: { w: wrongShape } }))
    if (misShaped !== "BackendCompileError") problems.push(`binding a mis-shaped weight failed with ${misShaped}, want BackendCompileError`)
    const both = yield* outcome(backend.compile(program(2), { constants: { b, w }, weights: { w: bound } }))
    if (both !== "BackendCompileError") problems.push(`a weight both baked and bound failed with ${both}, want BackendCompileError`)
    const exe = yield* backend.compile(program(2), { constants: { b }, weights: { w: bound } })
    yield* backend.release(bound)
    const afterRelease = yield* outcome(backend.run(exe, { x: hostTensor("float32", [2, IN], xsOf(2)) }))
    if (afterRelease !== "DeviceTensorError") problems.push(`running after releasing a bound weight failed with ${afterRelease}, want DeviceTensorError`)
    yield* Effect.ignore(backend.release(wrongShape))
    return problems
  }).pipe(Effect.catch((error) => Effect.succeed([`unexpected failure: ${error._tag}: ${error.message}`])))
