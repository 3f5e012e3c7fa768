/**
 * Host-side sampling from the table policy: greedy (`temperature: 0`),
 * temperature, top-k and top-p, stop at EOS / stop strings / maxNewTokens /
 * the context. Penalties are not applied (the double has no use for them).
 */
import type { SamplingParams } from "@refine-af/core"
import { Effect } from "effect"
import { PolicyError, type Sampled } from "@refine-af/training"
import { EOS, type CharTokenizer } from "./char-tokenizer.ts"
import { makeRng, type Rng } from "./rng.ts"
import { logitsAfter, logSoftmaxRow, type TableWeights } from "./table-weights.ts"

const choose = (logp: Float64Array, params: SamplingParams, rng: Rng): number => {
  const temperature = params.temperature ?? 1
  if (temperature === 0) {
    let best = 0
    for (let i = 1; i < logp.length; i++) if (logp[i]! > logp[best]!) best = i
    return best
  }
  const order = Array.from(logp.keys()).sort((a, b) => logp[b]! - logp[a]! || a - b)
  const kept = order.slice(0, params.topK && params.topK > 0 ? params.topK : order.length)
  const weights = kept.map((i) => Math.exp((logp[i]! - logp[kept[0]!]!) / temperature))
  const total = weights.reduce((a, b) => a + b, 0)
  let cut = kept.length
  if (params.topP !== undefined && params.topP < 1) {
    let mass = 0
    for (let j = 0; j < kept.length; j++) {
      mass += weights[j]! / total
      if (mass >= params.topP) {
        cut = j + 1
        break
      }
    }
  }
  const mass = weights.slice(0, cut).reduce((a, b) => a + b, 0)
  let u = rng.next() * mass
  for (let j = 0; j < cut; j++) {
    u -= weights[j]!
    if (u < 0) return kept[j]!
  }
  return kept[cut - 1]!
}

export const sampleOne = (w: TableWeights, tokenizer: CharTokenizer, contextLength: number, prompt: ReadonlyArray<number>, params: SamplingParams, rng: Rng): Effect.Effect<Sampled, PolicyError> =>
  Effect.suspend(() => {
    if (prompt.length === 0) return Effect.fail(new PolicyError({ reason: "InvalidRequest", message: "empty prompt", fix: "start prompts with at least one token (e.g. BOS)" }))
    if (prompt.length >= contextLength)
      return Effect.fail(new PolicyError({ reason: "ContextOverflow", message: `prompt of ${prompt.length} tokens leaves no room in the context of ${contextLength}`, fix: "shorten the prompt" }))
    const completion: Array<number> = []
    const logprobs: Array<number> = []
    let finishReason: Sampled["finishReason"] = "length"
    let text = ""
    const limit = Math.min(params.maxNewTokens, contextLength - prompt.length)
    for (let n = 0; n < limit; n++) {
      const prev = completion.length > 0 ? completion[completion.length - 1]! : prompt[prompt.length - 1]!
      const logp = logSoftmaxRow(logitsAfter(w, prev, true))
      const token = choose(logp, params, rng)
      completion.push(token)
      logprobs.push(logp[token]!)
      if (token === EOS) {
        finishReason = "eos"
        break
      }
      text = tokenizer.decodeSync(completion)
      const hit = (params.stop ?? []).map((s) => text.indexOf(s)).filter((i) => i >= 0)
      if (hit.length > 0) {
        text = text.slice(0, Math.min(...hit))
        finishReason = "stop"
        break
      }
    }
    if (finishReason !== "stop") text = tokenizer.decodeSync(completion)
    return Effect.succeed({ tokens: [...prompt, ...completion], promptLength: prompt.length, completion, text, logprobs, finishReason })
  })

/** One completion per prompt; per-request streams when `params.seed` is set, else the session's stream. */
export const sampleAll = (w: TableWeights, tokenizer: CharTokenizer, contextLength: number, prompts: ReadonlyArray<ReadonlyArray<number>>, params: SamplingParams) =>
  Effect.forEach(prompts, (prompt, i) => sampleOne(w, tokenizer, contextLength, prompt, params, params.seed === undefined ? w.rng : makeRng(params.seed + 7919 * i)))
