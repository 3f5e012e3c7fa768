/**
 * `generation_config.json`: the model author's default sampling settings and
 * end-of-sequence ids. Optional in a model folder; unknown keys are ignored.
 */
import { Effect } from "effect"
import { InvalidConfigError } from "./errors.ts"
import { FieldReader, isJsonObject } from "./fields.ts"

/** Defaults from `generation_config.json` (every field optional). */
export interface GenerationDefaults {
  readonly bosTokenId: number | null
  readonly eosTokenIds: ReadonlyArray<number>
  readonly padTokenId: number | null
  readonly doSample: boolean | undefined
  readonly temperature: number | undefined
  readonly topK: number | undefined
  readonly topP: number | undefined
  readonly repetitionPenalty: number | undefined
  readonly maxNewTokens: number | undefined
}

/** Defaults when the folder has no generation config. */
export const emptyGenerationDefaults: GenerationDefaults = {
  bosTokenId: null,
  eosTokenIds: [],
  padTokenId: null,
  doSample: undefined,
  temperature: undefined,
  topK: undefined,
  topP: undefined,
  repetitionPenalty: undefined,
  maxNewTokens: undefined
}

/** Validates a parsed `generation_config.json`. */
export const parseGenerationConfig = (path: string, json: unknown): Effect.Effect<GenerationDefaults, InvalidConfigError> => {
  if (!isJsonObject(json)) {
    return Effect.fail(new InvalidConfigError({ path, problems: ["not a JSON object"], message: `${path} is not a JSON object; delete or fix it.` }))
  }
  const fields = new FieldReader(json)
  const doSample = json.do_sample
  const defaults: GenerationDefaults = {
    bosTokenId: fields.tokenId("bos_token_id"),
    eosTokenIds: fields.tokenIds("eos_token_id"),
    padTokenId: fields.tokenId("pad_token_id"),
    doSample: typeof doSample === "boolean" ? doSample : undefined,
    temperature: fields.optionalNumber("temperature"),
    topK: fields.optionalNumber("top_k"),
    topP: fields.optionalNumber("top_p"),
    repetitionPenalty: fields.optionalNumber("repetition_penalty"),
    maxNewTokens: fields.optionalNumber("max_new_tokens")
  }
  return fields.problems.length > 0
    ? Effect.fail(new InvalidConfigError({ path, problems: fields.problems, message: `${path} has invalid fields:\n  - ${fields.problems.join("\n  - ")}` }))
    : Effect.succeed(defaults)
}
