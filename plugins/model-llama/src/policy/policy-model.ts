/**
 * The `PolicyModel` service of a loaded Llama-family model: tokenization,
 * chat template, and trainer sessions over the runtime's frozen weights.
 * Compiled programs are cached per model (shared by its sessions); state is
 * per session.
 *
 * @example
 * ```ts
 * import { makeLlamaPolicyModel } from "@refine-af/model-llama"
 * // const policy = makeLlamaPolicyModel({ runtime, tokenizer, id, contextLength: 512, eosIds: new Set([2]), maxBatch: 8 })
 * ```
 */
import { PolicyError, type PolicyModelService } from "@refine-af/training"
import { Effect } from "effect"
import type { BackendError, Executable, Program } from "@refine-af/tensor"
import { projectionsOf } from "@refine-af/models"
import { defaultLoraTargetsOf } from "../peft/lora-config.ts"
import { openPolicySession, type PolicyModelParts } from "./policy-session.ts"
import type { ProgramCache } from "./policy-step.ts"

export type LlamaPolicyOptions = Omit<PolicyModelParts, "compile">

export const makeLlamaPolicyModel = (options: LlamaPolicyOptions): Effect.Effect<PolicyModelService> =>
  Effect.gen(function* () {
    const { runtime, tokenizer } = options
    const compiled = new Map<string, Effect.Effect<{ built: any; exe: Executable }, BackendError>>()
    const compile: ProgramCache = (key, build, keepOnDevice) => {
      const hit = compiled.get(key)
      if (hit) return hit
      const built = build()
      const program: Program = built.program
      const memo = Effect.runSync(Effect.cached(Effect.map(runtime.compile(program, keepOnDevice(built)), (exe) => ({ built, exe }))))
      compiled.set(key, memo)
      return memo
    }
    const probe = [{ role: "user" as const, content: "x" }]
    const hasChatTemplate = yield* Effect.match(tokenizer.applyChatTemplate(probe), { onFailure: () => false, onSuccess: () => true })
    const withSpecials = tokenizer.encode("a")
    const bos = tokenizer.bosTokenId !== null && withSpecials[0] === tokenizer.bosTokenId ? tokenizer.bosTokenId : undefined
    const parts: PolicyModelParts = { ...options, compile }
    return {
      info: {
        id: options.id,
        contextLength: options.contextLength,
        vocabSize: runtime.config.vocabSize,
        eosTokenIds: [...options.eosIds],
        ...(bos === undefined ? {} : { bosTokenId: bos }),
        loraTargets: [...projectionsOf(runtime.config)],
        defaultLoraTargets: defaultLoraTargetsOf(runtime.config),
        hasChatTemplate
      },
      encode: (text) => Effect.sync(() => tokenizer.encode(text, { addSpecialTokens: false })),
      decode: (tokens) => Effect.sync(() => tokenizer.decode(tokens, { skipSpecialTokens: true })),
      applyChatTemplate: (messages, o) =>
        tokenizer.applyChatTemplate(messages, o).pipe(Effect.mapError((e) => new PolicyError({ reason: "Unsupported", message: e.message, fix: "use the alpaca or a custom template: this model has no chat template" }))),
      session: (o) => openPolicySession(parts, o)
    } satisfies PolicyModelService
  })
