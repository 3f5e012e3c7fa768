/**
 * Option-schema building blocks of the SuperNI stages.
 */
import { fileURLToPath } from "node:url"
import { Schema } from "effect"
import { withDefault } from "@refine-af/core"

/** Makes a struct key optional in the recipe, filled with `value` when absent. */
export { withDefault }

/** An integer ≥ 1. */
export const positiveInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1))

/** An integer ≥ 0. */
export const nonNegativeInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** The evaluation set bundled with this package (our own text, 8 tasks × 20 instances). */
export const bundledTaskSet = fileURLToPath(new URL("../../data/mini-superni.jsonl", import.meta.url))
