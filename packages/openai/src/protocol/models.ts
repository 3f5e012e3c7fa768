/**
 * `GET /v1/models`: the models a server serves.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ModelList } from "@refine-af/openai"
 * const list = Schema.decodeUnknownSync(ModelList)({ object: "list", data: [{ id: "m", object: "model", created: 0, owned_by: "me" }] })
 * ```
 */
import { Schema } from "effect"

/** One served model. */
export const ModelCard = Schema.Struct({
  id: Schema.String,
  object: Schema.optionalKey(Schema.String),
  created: Schema.optionalKey(Schema.Number),
  owned_by: Schema.optionalKey(Schema.String),
  /** vLLM's extension: the context length. */
  max_model_len: Schema.optionalKey(Schema.NullOr(Schema.Number))
})
export type ModelCard = typeof ModelCard.Type

/** The model list. */
export const ModelList = Schema.Struct({ object: Schema.optionalKey(Schema.String), data: Schema.Array(ModelCard) })
export type ModelList = typeof ModelList.Type
