/**
 * Small constructors for case inputs.
 */
import { showShape } from "../errors.ts"
import type { DType, Shape } from "../ir.ts"
import { sizeOf } from "../ir.ts"
import type { CaseInput } from "./case.ts"
import type { Rng } from "./random.ts"

/** A differentiable float input named `name`. */
export const floatIn = (name: string, dtype: DType, shape: Shape, data: Float64Array): CaseInput => ({ name, dtype, shape, data, differentiable: true })

/** A non-differentiable input (indices, masks, …). */
export const constIn = (name: string, dtype: DType, shape: Shape, data: Float64Array): CaseInput => ({ name, dtype, shape, data, differentiable: false })

/** Uniform float input in [lo, hi). */
export const uniformIn = (rng: Rng, name: string, dtype: DType, shape: Shape, lo = -2, hi = 2): CaseInput =>
  floatIn(name, dtype, shape, rng.fill(sizeOf(shape), () => rng.uniform(lo, hi)))

/** Label of a list of shapes, e.g. `[2,3]+[3]`. */
export const label = (shapes: ReadonlyArray<Shape>, sep = "+"): string => shapes.map(showShape).join(sep)
