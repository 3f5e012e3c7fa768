/** Runs training-step programs through the float64 interpreter, carrying state (test support). */
import * as T from "@refine-af/tensor"

/** Carry state initialised from `params` (for "parameter" bindings) and zeros. */
export const initialCarry = (step: T.TrainStepProgram, params: Readonly<Record<string, ArrayLike<number>>>): Record<string, Float64Array> => {
  const state: Record<string, Float64Array> = {}
  for (const b of step.carry) state[b.input] = b.init === "parameter" ? Float64Array.from(params[b.input]!) : new Float64Array(T.sizeOf(b.shape))
  return state
}

/** One run: feeds + carry + lr/step → outputs; carry is updated in place. */
export const runStep = (
  step: T.TrainStepProgram,
  carry: Record<string, Float64Array>,
  feeds: Readonly<Record<string, ArrayLike<number>>>,
  lr: number,
  stepNumber: number
): Record<string, T.Value> => {
  const out = T.interpret(step.program, { ...feeds, ...carry, [T.stepInputNames.lr]: [lr], [T.stepInputNames.step]: [stepNumber] })
  for (const b of step.carry) carry[b.input] = out[b.output]!.data
  return out
}
