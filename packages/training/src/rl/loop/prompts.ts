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
 * const load = (policy: PolicyModelService) => encodePrompts("ppo", policy, [{ prompt: "2 + 2 =" }], 16)
 * ```
 */
import { Effect } from "effect"
import { StageError, type JsonRecord, type SamplingParams } from "@refine-af/core"
import type { PolicyModelService } from "../../policy-model.ts"
import type { PolicySession } from "../../policy-session.ts"
import type { Sampled } from "../../sequences.ts"

/** One prompt ready for sampling. */
export interface EncodedPrompt {
  readonly record: JsonRecord
  readonly tokens: ReadonlyArray<number>
  readonly stop: ReadonlyArray<string>
}

/** Encodes every record's `prompt` (BOS first when the model uses one); fails naming the record that is unusable. */
export const encodePrompts = (
  stage: string,
  policy: PolicyModelService,
  records: ReadonlyArray<JsonRecord>,
  maxNewTokens: number
): Effect.Effect<Array<EncodedPrompt>, StageError> =>
  Effect.gen(function* () {
    if (records.length === 0) return yield* new StageError({ stage, message: "the prompt input has no records", fix: "connect `prompts` to a stage that emits records with a `prompt` string (e.g. self-instruct/rl-prompts)" })
    const out: Array<EncodedPrompt> = []
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!
      const prompt = record["prompt"]
      if (typeof prompt !== "string" || prompt === "")
        return yield* new StageError({ stage, message: `prompt record ${i} has no non-empty "prompt" string (got ${JSON.stringify(prompt) ?? "nothing"})`, fix: "connect `prompts` to a stage that emits records with a `prompt` string (e.g. self-instruct/rl-prompts)" })
      const stop = Array.isArray(record["stop"]) ? record["stop"].filter((s): s is string => typeof s === "string") : []
      const encoded = yield* policy.encode(prompt).pipe(Effect.mapError((e) => new StageError({ stage, message: `prompt record ${i}: ${e.message}`, ...(e.fix ? { fix: e.fix } : {}) })))
      const tokens = policy.info.bosTokenId === undefined ? encoded : [policy.info.bosTokenId, ...encoded]
      if (tokens.length + maxNewTokens > policy.info.contextLength)
        return yield* new StageError({
          stage,
          message: `prompt record ${i} is ${tokens.length} tokens; with sampling.maxNewTokens ${maxNewTokens} it exceeds the model's context of ${policy.info.contextLength}`,
          fix: "shorten the prompt, lower sampling.maxNewTokens, or drop the record upstream"
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
