/**
 * What a conformance case is, and how one is turned into runnable programs.
 */
import { gradients, gradName } from "../autodiff.ts"
import { Graph, type Tensor } from "../graph.ts"
import type { DType, OpName, Program, Shape } from "../ir.ts"
import { isFloat } from "../ir.ts"
import { mul, sum } from "../api.ts"
import type { Value } from "../ops/types.ts"
import type { Rng } from "./random.ts"

/** One input of a case: its values, and whether the gradient check differentiates it. */
export interface CaseInput {
  readonly name: string
  readonly dtype: DType
  readonly shape: Shape
  readonly data: Float64Array
  /** False for indices, masks and inputs near a non-differentiable point. */
  readonly differentiable: boolean
}

/** A random instance of an op: inputs and the expression under test. */
export interface CaseSpec {
  readonly label: string
  readonly inputs: ReadonlyArray<CaseInput>
  readonly build: (inputs: ReadonlyArray<Tensor>) => Tensor
}

/** Makes random cases of one op for a float dtype. */
export interface OpCaseGenerator {
  readonly op: OpName
  /** Whether the op has a gradient to check. */
  readonly differentiable: boolean
  readonly make: (rng: Rng, dtype: DType) => CaseSpec
}

/**
 * A ready-to-run case. `forward` maps the inputs to output `y`; `gradient` (when
 * the op is differentiable) maps the inputs plus `proj` (a random tensor of y's
 * shape) to `loss = Σ y·proj` and `grad/<input>` for each differentiable input.
 */
export interface ConformanceCase {
  /** Stable id, e.g. `Add#3 [2,3]+[3]`. */
  readonly id: string
  readonly op: OpName
  readonly forward: Program
  readonly gradient: Program | undefined
  /** Feeds for `forward` (and, with `proj`, for `gradient`). */
  readonly feeds: Readonly<Record<string, Value>>
  readonly gradientFeeds: Readonly<Record<string, Value>>
  /** Names of the inputs whose gradients `gradient` outputs. */
  readonly wrt: ReadonlyArray<string>
}

/** Turns a spec into runnable programs. */
export const materialize = (generator: OpCaseGenerator, index: number, spec: CaseSpec, rng: Rng): ConformanceCase => {
  const op = generator.op
  const forwardGraph = new Graph()
  const xs = spec.inputs.map((i) => forwardGraph.input(i.name, i.dtype, i.shape))
  const y = spec.build(xs)
  forwardGraph.output("y", y)
  const feeds: Record<string, Value> = {}
  for (const i of spec.inputs) feeds[i.name] = { dtype: i.dtype, shape: i.shape, data: i.data }

  const wrt = spec.inputs.filter((i) => i.differentiable && isFloat(i.dtype)).map((i) => i.name)
  let gradient: Program | undefined
  const gradientFeeds: Record<string, Value> = { ...feeds }
  if (generator.differentiable && wrt.length > 0 && isFloat(y.dtype)) {
    const g = new Graph()
    const gx = spec.inputs.map((i) => g.input(i.name, i.dtype, i.shape))
    const gy = spec.build(gx)
    const proj = g.input("proj", gy.dtype, gy.shape)
    const loss = sum(mul(gy, proj))
    const targets = gx.filter((_, k) => wrt.includes(spec.inputs[k]!.name))
    const gs = gradients(loss, targets)
    g.output("loss", loss)
    wrt.forEach((name, k) => g.output(gradName(name), gs[k]!))
    gradient = g.build()
    gradientFeeds["proj"] = { dtype: gy.dtype, shape: gy.shape, data: rng.fill(gy.size, () => rng.uniform(-1, 1)) }
  }
  return { id: `${op}#${index} ${spec.label}`, op, forward: forwardGraph.build(), gradient, feeds, gradientFeeds, wrt }
}
