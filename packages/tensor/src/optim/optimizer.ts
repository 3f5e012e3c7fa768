/**
 * The optimizer contract: an optimizer turns (parameters, gradients) into updated
 * parameters and state, as nodes of the training-step program. State that must
 * survive between runs is a {@link StateBinding}: fed as input `input`, returned as
 * output `next/<input>`.
 */
import type { Graph, Tensor } from "../graph.ts"
import type { DType, Shape } from "../ir.ts"

/** Output name that carries the next value of state input `input`. */
export const nextName = (input: string): string => `next/${input}`

/** A value carried from one run to the next. */
export interface StateBinding {
  /** Input (or parameter) name to feed. */
  readonly input: string
  /** Output name holding the value to feed next time (`next/<input>`). */
  readonly output: string
  readonly dtype: DType
  readonly shape: Shape
  /** Initial value: zeros, or the parameter's own initial weights. */
  readonly init: "zeros" | "parameter"
}

/** A trainable parameter as the optimizer sees it. */
export interface TrainableParam {
  readonly name: string
  readonly tensor: Tensor
}

/** Scalar inputs every training step is fed. */
export interface StepInputs {
  /** Learning rate (input `optim.lr`), so schedules need no recompilation. */
  readonly lr: Tensor
  /** 1-based step count as a float scalar (input `optim.step`), for bias correction. */
  readonly step: Tensor
}

/** What an optimizer emits into the step program. */
export interface OptimizerUpdate {
  readonly params: ReadonlyArray<Tensor>
  /** Next value of each optimizer state input. */
  readonly state: ReadonlyArray<{ readonly binding: StateBinding; readonly next: Tensor }>
}

/** An optimizer as a program fragment. */
export interface Optimizer {
  readonly name: string
  readonly update: (g: Graph, params: ReadonlyArray<TrainableParam>, grads: ReadonlyArray<Tensor>, step: StepInputs) => OptimizerUpdate
}

/** Declares a zero-initialised optimizer state input named `${prefix}/${param}`. */
export const stateInput = (g: Graph, prefix: string, p: TrainableParam): { binding: StateBinding; tensor: Tensor } => {
  const input = `${prefix}/${p.name}`
  const tensor = g.input(input, p.tensor.dtype, p.tensor.shape)
  return { tensor, binding: { input, output: nextName(input), dtype: p.tensor.dtype, shape: p.tensor.shape, init: "zeros" } }
}
