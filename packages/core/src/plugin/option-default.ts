/**
 * The default of a component option: the key is optional in the recipe and
 * decodes to `value` when absent. Because the default is part of the Schema,
 * `refine-af plugins` shows it in its default column and `refine-af schema`
 * writes it into the editor JSON Schema. A stage's cache key hashes its options
 * as written, so moving a default from code into the Schema changes no key.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { withDefault } from "@refine-af/core"
 * const Options = Schema.Struct({ batch_size: Schema.Int.annotate({ description: "Rows per call." }).pipe(withDefault(16)) })
 * Schema.decodeUnknownSync(Options)({}) // { batch_size: 16 }
 * ```
 */
import { Effect, Schema } from "effect"

/** Makes a struct key optional in the recipe, filled with `value` when absent. */
export const withDefault = <S extends Schema.Top>(value: S["Encoded"]) => Schema.withDecodingDefaultKey<S>(Effect.succeed(value))
