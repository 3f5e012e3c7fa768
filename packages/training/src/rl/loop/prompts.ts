/**
 * Prompt records → token ids for RL trainers, checked against the model's
 * context, and sampling that honours each record's own stop strings.
 *
 * A prompt record has a `prompt` string and may have `stop` (strings where
 * sampling ends, e.g. from `self-instruct/rl-prompts`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { encodePrompts, type PolicyModelService } from "@refine-af/training"
 * const load = (policy: PolicyModelService) => encodePrompts("ppo", policy, [{ record: { prompt: "2 + 2 =" }, where: "line 1 of prompts.jsonl" }], 16)
 * ```
 */
import { Effect } from "effect"
import { StageError, type JsonRecord, type SamplingParams } from "@refine-af/core"
import { withLeadingBos, type PolicyModelService } from "../../policy-model.ts"
import type { PolicySession } from "../../policy-session.ts"
import type { Sampled } from "../../sequences.ts"

/** One prompt ready for sampling. */
export interface EncodedPrompt {
  readonly record: JsonRecord
  readonly tokens: ReadonlyArray<number>
  readonly stop: ReadonlyArray<string>
}

/** A prompt record and where it came from, for errors (`record 3 of stage "rl_prompts"`, `line 4 of prompts.jsonl`). */
export interface NamedRecord {
  readonly record: JsonRecord
  readonly where: string
}

/** Records of an input port, named by their position in the upstream stage. */
export const namedRecords = (upstream: string, records: ReadonlyArray<JsonRecord>): Array<NamedRecord> =>
  records.map((record, i) => ({ record, where: `prompt record ${i} of stage "${upstream}"` }))

/** Encodes every record's `prompt` (BOS first when the model uses one and the prompt does not start with it); fails naming the record that is unusable. */
export const encodePrompts = (
  stage: string,
  policy: PolicyModelService,
  records: ReadonlyArray<NamedRecord>,
  maxNewTokens: number
): Effect.Effect<Array<EncodedPrompt>, StageError> =>
  Effect.gen(function* () {
    if (records.length === 0) return yield* new StageError({ stage, message: "the prompt dataset is empty (no records from `prompts` or `path`)", fix: "connect `prompts` to a stage that emits records with a `prompt` string (e.g. self-instruct/rl-prompts), or point `path` at a non-empty JSONL file" })
    const out: Array<EncodedPrompt> = []
    for (const { record, where } of records) {
      const prompt = record["prompt"]
      if (typeof prompt !== "string" || prompt === "")
        return yield* new StageError({ stage, message: `${where} has no non-empty "prompt" string (got ${JSON.stringify(prompt) ?? "nothing"})`, fix: "give every record a non-empty \"prompt\" string (as self-instruct/rl-prompts emits), or drop the record" })
      const stop = Array.isArray(record["stop"]) ? record["stop"].filter((s): s is string => typeof s === "string") : []
      const encoded = yield* policy.encode(prompt).pipe(Effect.mapError((e) => new StageError({ stage, message: `${where}: ${e.message}`, ...(e.fix ? { fix: e.fix } : {}) })))
      const tokens = withLeadingBos(policy.info, encoded)
      if (tokens.length + maxNewTokens > policy.info.contextLength)
        return yield* new StageError({
          stage,
          message: `${where} is ${tokens.length} tokens; with sampling.maxNewTokens ${maxNewTokens} it exceeds the model's context of ${policy.info.contextLength}`,
          fix: "shorten the prompt, lower sampling.maxNewTokens, or drop the record; or raise the model's max_context, where it is below the model's own context (max_position_embeddings in its config.json)"
        })
      out.push({ record, tokens, stop })
    }
    return out
  })

/** Samples one completion per prompt, each with its own stop strings added to `params.stop`; results in prompt order. */
export const sampleWithStops = (session: PolicySession, prompts: ReadonlyArray<EncodedPrompt>, params: SamplingParams) =>
  Effect.gen(function* () {
    const groups = new Map<string, Array<number>>()
    prompts.forEach((p, i) => {
      const key = JSON.stringify(p.stop)
      groups.set(key, [...(groups.get(key) ?? []), i])
    })
    const out = new Array<Sampled>(prompts.length)
    for (const [key, indices] of groups) {
      const stop = [...(params.stop ?? []), ...(JSON.parse(key) as Array<string>)]
      const sampled = yield* session.sample(indices.map((i) => prompts[i]!.tokens), { ...params, stop })
      indices.forEach((i, k) => (out[i] = sampled[k]!))
    }
    return out
  })
