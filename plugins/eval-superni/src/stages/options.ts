/**
 * Option-schema building blocks of the SuperNI stages.
 */
import { fileURLToPath } from "node:url"
import { Effect, Schema } from "effect"

/** Makes a struct key optional in the recipe, filled with `value` when absent. */
export const withDefault = <S extends Schema.Top>(value: S["Encoded"]) =>
  Schema.withDecodingDefaultKey<S>(Effect.succeed(value))

/** An integer ≥ 1. */
export const positiveInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1))

/** An integer ≥ 0. */
export const nonNegativeInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

/** The evaluation set bundled with this package (our own text, 8 tasks × 20 instances). */
export const bundledTaskSet = fileURLToPath(new URL("../../data/mini-superni.jsonl", import.meta.url))
