/**
 * A task family: several phrasings of one instruction, an example maker with
 * a verifiable answer, and whether its answer comes from a small label set.
 */
import type { Rng } from "./rng.ts"

/** One (input, output) pair; input may be empty. */
export interface Example {
  readonly input: string
  readonly output: string
}

/** A concrete task: instruction text and a way to make examples of it. */
export interface Task {
  readonly instruction: string
  readonly isClassification: boolean
  /** Class labels (classification tasks); the output-first format lists one example per label. */
  readonly labels?: ReadonlyArray<string>
  /** A fresh example; for classification, `label` asks for an example of that class. */
  readonly example: (rng: Rng, label?: string) => Example
}

/** A family draws a concrete task (phrasing and parameters) from the random source. */
export type Family = (rng: Rng) => Task
