/**
 * Training-step programs: one run does forward + backward + (clipping) +
 * optimizer update; new parameters and optimizer state are outputs
 * (`next/<name>`), listed in `carry` so a trainer feeds them back.
 * Gradient accumulation splits this into an accumulate program (per
 * micro-batch: accumulators += gradients) and an apply program (update from the
 * averaged accumulators).
 *
 * Every step program takes two scalar float32 inputs: `optim.lr` (learning rate)
 * and `optim.step` (1-based step number).
 *
 * @example
 * ```ts
 * import { Graph, adamw, matmul, mean, square, trainStep } from "@refine-af/tensor"
 * const g = new Graph()
 * const x = g.input("x", "float32", [4, 3])
 * const w = g.parameter("w", "float32", [3, 1])
 * const step = trainStep(mean(square(matmul(x, w))), { optimizer: adamw(), clipGradNorm: 1 })
 * // step.program outputs: loss, grad_norm, next/w, next/adamw.m/w, next/adamw.v/w
 * ```
 */
import { add, div, mul } from "../api.ts"
import { gradients } from "../autodiff.ts"
import { GradientError } from "../errors.ts"
import { Graph, type Tensor } from "../graph.ts"
import type { DType, Program, Shape } from "../ir.ts"
import { eliminateDeadCode } from "../passes/dead-code.ts"
import { clipByGlobalNorm } from "./clip.ts"
import { nextName, type Optimizer, type StateBinding, type TrainableParam } from "./optimizer.ts"

/** Options of the step builders. */
export interface TrainStepOptions {
  readonly optimizer: Optimizer
  /** Clip gradients to this global L2 norm (and output `grad_norm`). */
  readonly clipGradNorm?: number
}

/** A step program and what it carries between runs. */
export interface TrainStepProgram {
  readonly program: Program
  /** Values to feed back next run: parameters (init "parameter") and optimizer state / accumulators (init "zeros"). */
  readonly carry: ReadonlyArray<StateBinding>
}

/** Names of the scalar inputs of update programs. */
export const stepInputNames = { lr: "optim.lr", step: "optim.step" } as const

const trainables = (g: Graph): Array<TrainableParam> =>
  g.parameterList().filter((p) => p.trainable).map((p) => ({ name: p.name, tensor: g.tensor(p.id) }))

const emitUpdate = (g: Graph, params: ReadonlyArray<TrainableParam>, grads: ReadonlyArray<Tensor>, options: TrainStepOptions): Array<StateBinding> => {
  let used = grads
  if (options.clipGradNorm !== undefined) {
    const { clipped, norm } = clipByGlobalNorm(grads, options.clipGradNorm)
    used = clipped
    g.output("grad_norm", norm)
  }
  const lr = g.input(stepInputNames.lr, "float32", [])
  const step = g.input(stepInputNames.step, "float32", [])
  const update = options.optimizer.update(g, params, used, { lr, step })
  const carry: Array<StateBinding> = []
  params.forEach((p, i) => {
    g.output(nextName(p.name), update.params[i]!)
    carry.push({ input: p.name, output: nextName(p.name), dtype: p.tensor.dtype, shape: p.tensor.shape, init: "parameter" })
  })
  for (const s of update.state) {
    g.output(s.binding.output, s.next)
    carry.push(s.binding)
  }
  return carry
}

/** Declares output `loss` unless the caller already did. */
const outputLoss = (g: Graph, loss: Tensor) => {
  if (!g.hasOutput("loss")) g.output("loss", loss)
}

const needTrainables = (params: ReadonlyArray<TrainableParam>) => {
  if (params.length === 0) throw new GradientError({ message: "the graph has no trainable parameters; declare some with Graph.parameter (trainable defaults to true)" })
}

/** Forward + backward + update of every trainable parameter of `loss`'s graph, in one program. */
export const trainStep = (loss: Tensor, options: TrainStepOptions): TrainStepProgram => {
  const g = loss.graph
  const params = trainables(g)
  needTrainables(params)
  const grads = gradients(loss, params.map((p) => p.tensor))
  outputLoss(g, loss)
  const carry = emitUpdate(g, params, grads, options)
  return { program: eliminateDeadCode(g.build()), carry }
}

/** The scalar input of a weighted `accumulateStep`: this micro-batch's weight. */
export const accumulateWeightInput = "accum/weight"

/**
 * Per micro-batch: outputs `loss` and `next/accum/<param>` = accum + gradient, or with
 * `weighted`, accum + weight · gradient (the scalar input `accum/weight`).
 */
export const accumulateStep = (loss: Tensor, options: { readonly weighted?: boolean } = {}): TrainStepProgram => {
  const g = loss.graph
  const params = trainables(g)
  needTrainables(params)
  const grads = gradients(loss, params.map((p) => p.tensor))
  outputLoss(g, loss)
  const weight = options.weighted === true ? g.input(accumulateWeightInput, loss.dtype, []) : undefined
  const carry = params.map((p, i): StateBinding => {
    const input = `accum/${p.name}`
    const acc = g.input(input, p.tensor.dtype, p.tensor.shape)
    g.output(nextName(input), add(acc, weight === undefined ? grads[i]! : mul(grads[i]!, weight)))
    return { input, output: nextName(input), dtype: p.tensor.dtype, shape: p.tensor.shape, init: "zeros" }
  })
  return { program: eliminateDeadCode(g.build()), carry }
}

/** A trainable parameter's signature (name, dtype, shape). */
export interface ParamSignature {
  readonly name: string
  readonly dtype: DType
  readonly shape: Shape
}

/** The trainable parameters of a program (e.g. to build its apply program). */
export const trainableSignatures = (program: Program): Array<ParamSignature> =>
  program.parameters.filter((p) => p.trainable).map((p) => ({ name: p.name, dtype: program.nodes[p.id]!.dtype, shape: program.nodes[p.id]!.shape }))

/**
 * Update from accumulated gradients: grads = accum/<param> ÷ microBatches, then
 * clipping and the optimizer. The trainer resets accumulators to zeros afterwards
 * (they are not in `carry`).
 */
export const applyAccumulated = (params: ReadonlyArray<ParamSignature>, microBatches: number, options: TrainStepOptions): TrainStepProgram => {
  const g = new Graph()
  const trainable = params.map((p) => ({ name: p.name, tensor: g.parameter(p.name, p.dtype, p.shape) }))
  needTrainables(trainable)
  const grads = params.map((p) => div(g.input(`accum/${p.name}`, p.dtype, p.shape), microBatches))
  const carry = emitUpdate(g, trainable, grads, options)
  return { program: eliminateDeadCode(g.build()), carry }
}
