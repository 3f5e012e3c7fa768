/**
 * A tiny, exact, trainable `PolicyModel` for testing algorithms without a
 * Llama: a character-level bigram policy (next-token logits from a frozen
 * random V×V table) with a real LoRA adapter on that table, an optional value
 * head, AdamW, clipping, gradient accumulation, LoRA dropout, checkpoints that
 * resume bitwise identically, and PEFT export — every number computed in
 * float64 by the tensor reference interpreter from the `Objective` itself.
 *
 * Tokens: 0 = EOS, 1 = BOS, then one per alphabet character. LoRA target: `table`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { defaultLoraConfig, nllObjective, PolicyModel } from "@refine-af/training"
 * import { tablePolicyModel } from "@refine-af/testing"
 * const layer = Layer.succeed(PolicyModel, tablePolicyModel({ seed: 1 }))
 * const train = Effect.scoped(Effect.gen(function* () {
 *   const policy = yield* PolicyModel
 *   const session = yield* policy.session({ lora: { ...defaultLoraConfig, targets: ["table"] }, seed: 3 })
 *   return yield* session.step(nllObjective, [{ tokens: [1, 2, 3, 0], promptLength: 1 }], {}, { lr: 0.1 })
 * }))
 * ```
 */
import { Effect } from "effect"
import { loraScale, PolicyError, type PolicyModelService, type PolicySession, type SessionOptions } from "@refine-af/training"
import { BOS, charTokenizer, defaultAlphabet, EOS } from "./char-tokenizer.ts"
import { makeRng } from "./rng.ts"
import { exportPeft, readCheckpoint, writeCheckpoint } from "./table-checkpoint.ts"
import { renderChat, tableLanguageModel } from "./table-lm.ts"
import { paramNames } from "./table-program.ts"
import { sampleAll } from "./table-sample.ts"
import { evaluate, step } from "./table-step.ts"
import type { TableWeights } from "./table-weights.ts"

export interface TablePolicyOptions {
  /** Seeds the frozen base table (default 0). */
  readonly seed?: number
  readonly alphabet?: string
  /** Standard deviation of the base logits (default 1). */
  readonly baseScale?: number
  /** Longest prompt + completion (default 64). */
  readonly contextLength?: number
}

export const tablePolicyModel = (options: TablePolicyOptions = {}): PolicyModelService => {
  const alphabet = options.alphabet ?? defaultAlphabet
  const tokenizer = charTokenizer(alphabet)
  const vocab = tokenizer.vocabSize
  const contextLength = options.contextLength ?? 64
  const baseRng = makeRng(options.seed ?? 0)
  const table = Float64Array.from({ length: vocab * vocab }, () => baseRng.normal() * (options.baseScale ?? 1))
  const id = `table-policy:${options.seed ?? 0}:${vocab}:${options.baseScale ?? 1}`
  const info = { id, contextLength, vocabSize: vocab, eosTokenIds: [EOS], bosTokenId: BOS, loraTargets: ["table"], hasChatTemplate: true }

  const session = (o: SessionOptions): Effect.Effect<PolicySession, PolicyError> =>
    Effect.gen(function* () {
      const unknown = o.lora.targets.filter((t) => !info.loraTargets.includes(t))
      if (unknown.length > 0 || o.lora.targets.length === 0)
        return yield* new PolicyError({ reason: "UnknownLoraTarget", message: `LoRA target(s) ${JSON.stringify(unknown)} are not modules of ${id}`, fix: `use targets from ${JSON.stringify(info.loraTargets)}` })
      if (o.initialAdapter !== undefined) return yield* new PolicyError({ reason: "Unsupported", message: "the table policy cannot load an initial adapter", fix: "leave initialAdapter out in tests" })
      const rng = makeRng(o.seed)
      const bound = 1 / Math.sqrt(vocab) // kaiming-uniform(a=√5) bound for fan-in V, as PEFT's lora_A init
      const params = new Map<string, Float64Array>([
        [paramNames.a, Float64Array.from({ length: o.lora.rank * vocab }, () => (rng.next() * 2 - 1) * bound)],
        [paramNames.b, new Float64Array(vocab * o.lora.rank)]
      ])
      if (o.valueHead) {
        params.set(paramNames.value, new Float64Array(vocab))
        params.set(paramNames.valueBias, new Float64Array(1))
      }
      const weights: TableWeights = { vocab, rank: o.lora.rank, scale: loraScale(o.lora), table, params, moments: new Map(), step: 0, rng }
      const meta = { modelId: id, lora: o.lora, valueHead: o.valueHead === true }
      const restored = o.resumeFrom === undefined ? undefined : yield* readCheckpoint(weights, o.resumeFrom, meta)
      const ctx = { weights, contextLength, valueHead: o.valueHead === true, dropout: o.lora.dropout, optimizer: o.optimizer ?? {} }
      return {
        sample: (prompts, params) => sampleAll(weights, tokenizer, contextLength, prompts, params),
        evaluate: (batch, want) => evaluate(ctx, batch, want),
        step: (objective, batch, feeds, hyper) => step(ctx, objective, batch, feeds, hyper),
        steps: () => weights.step,
        restored,
        checkpoint: (dir, trainerState) => writeCheckpoint(weights, dir, meta, trainerState),
        exportAdapter: (dir) => exportPeft(weights, dir, meta),
        lm: tableLanguageModel(weights, tokenizer, { id: `${id}+session`, contextLength })
      } satisfies PolicySession
    })

  return {
    info,
    encode: tokenizer.encode,
    decode: (tokens) => Effect.succeed(tokenizer.decodeSync(tokens)),
    applyChatTemplate: (messages, o) => Effect.succeed(renderChat(messages, o?.addGenerationPrompt ?? true)),
    session
  }
}
