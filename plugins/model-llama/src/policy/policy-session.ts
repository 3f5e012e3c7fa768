/**
 * Opening a `PolicySession` on a loaded Llama model: validate the LoRA
 * targets, initialise (or load, or restore) the adapter, value head and
 * moments, and wire sample / evaluate / step / checkpoint / export / lm.
 * The session's device tensors are released with its scope.
 */
import { LanguageModelError, type SamplingParams } from "@refine-af/core"
import { loraScale as trainingLoraScale, PolicyError, type PolicySession, type Sampled, type SessionOptions } from "@refine-af/training"
import { Effect, type Scope } from "effect"
import { generateTokens, type ActiveAdapter } from "../generation/generate.ts"
import type { LlamaRuntime } from "../model/runtime.ts"
import { initLoraAdapter, type LoraAdapter } from "../peft/adapter.ts"
import { readAdapter, writeAdapter } from "../peft/adapter-io.ts"
import type { LoraTarget } from "../peft/lora-config.ts"
import { projectionsOf, type Tokenizer } from "@refine-af/models"
import { makeLlamaLanguageModel } from "../service/language-model.ts"
import { readCheckpoint, writeCheckpoint } from "./policy-checkpoint.ts"
import { adapterOnly, currentAdapter, initialParams, releaseFeed, type PolicyState } from "./policy-state.ts"
import { evaluate, step, type ProgramCache } from "./policy-step.ts"
import { sessionRng } from "./rng.ts"

export interface PolicyModelParts {
  readonly runtime: LlamaRuntime
  readonly tokenizer: Tokenizer
  readonly id: string
  readonly contextLength: number
  readonly eosIds: ReadonlySet<number>
  readonly maxBatch: number
  /** Most rows prefilled (or scored) in one program (default maxBatch). */
  readonly prefillRows?: number
  /** `fit` (default): evaluation and training compute the heads on the completions' window only; `full`: on every position (benchmarks compare the two). */
  readonly headWindow?: "fit" | "full"
  /** Default true: rows completing the same prompt share one pass of it through the decoder in evaluation and training programs where that saves a quarter of the positions (`policy-layout.ts`); false: every row carries its prompt (benchmarks compare the two). */
  readonly sharePrompts?: boolean
  /**
   * Where Python loads the base from, written into exported adapters' `base_model_name_or_path` (and
   * `revision`): the Hub repo a pulled folder came from, else the folder. Absent: null (unknown).
   */
  readonly base?: { readonly nameOrPath: string; readonly revision?: string }
  readonly compile: ProgramCache
}

const asPolicyError = (e: { readonly _tag: string; readonly message: string }) =>
  e instanceof PolicyError ? e : new PolicyError({ reason: e._tag === "LanguageModelError" && (e as LanguageModelError).reason === "ContextOverflow" ? "ContextOverflow" : e._tag.startsWith("Backend") ? "Backend" : "InvalidRequest", message: e.message, ...("fix" in e && typeof e.fix === "string" ? { fix: e.fix } : {}) })

export const openPolicySession = (parts: PolicyModelParts, o: SessionOptions): Effect.Effect<PolicySession, PolicyError, Scope.Scope> =>
  Effect.gen(function* () {
    const { runtime, tokenizer } = parts
    const config = runtime.config
    // A fresh adapter's targets must be this model's projections; a loaded one brings its own (checked by readAdapter).
    const projections: ReadonlyArray<string> = projectionsOf(config)
    const unknown = o.lora.targets.filter((t) => !projections.includes(t))
    if (o.initialAdapter === undefined && (unknown.length > 0 || o.lora.targets.length === 0))
      return yield* new PolicyError({ reason: "UnknownLoraTarget", message: `LoRA target(s) ${JSON.stringify(unknown.length > 0 ? unknown : o.lora.targets)} are not projections of ${parts.id}`, fix: `use targets from ${projections.join(", ")}` })
    const rng = sessionRng(o.seed)
    const adapter: LoraAdapter = o.initialAdapter !== undefined
      ? yield* readAdapter(o.initialAdapter, config).pipe(Effect.mapError((e) => new PolicyError({ reason: "Checkpoint", message: e.message, fix: "point initialAdapter at a PEFT folder trained for this base model" })))
      : initLoraAdapter({ r: o.lora.rank, alpha: o.lora.alpha, dropout: o.lora.dropout, targetModules: o.lora.targets as ReadonlyArray<LoraTarget>, useRsLora: o.lora.rsLora, baseModelNameOrPath: null }, config, rng.next)
    const scale = o.initialAdapter !== undefined ? trainingLoraScale({ rank: adapter.config.r, alpha: adapter.config.alpha, rsLora: adapter.config.useRsLora }) : trainingLoraScale(o.lora)
    const lora = { rank: adapter.config.r, alpha: adapter.config.alpha, targets: adapter.config.targetModules, scale }
    const state: PolicyState = { params: initialParams(adapter, config, o.valueHead === true), moments: new Map(), step: 0, rng, adapter }
    yield* Effect.addFinalizer(() => Effect.forEach([...state.params.values(), ...state.moments.values()], (f) => releaseFeed(runtime.backend, f), { discard: true }))
    const identity = { modelId: parts.id, lora: { rank: lora.rank, alpha: lora.alpha, scale, dropout: o.lora.dropout, targets: [...lora.targets] }, valueHead: o.valueHead === true }
    const restored = o.resumeFrom === undefined ? undefined : yield* readCheckpoint(state, o.resumeFrom, identity)
    const ctx = {
      runtime,
      compile: parts.compile,
      state,
      lora,
      loraKey: `lora:${lora.rank}:${scale}:${lora.targets.join(",")}`,
      dropout: o.lora.dropout,
      valueHead: o.valueHead === true,
      optimizer: o.optimizer ?? {},
      contextLength: parts.contextLength,
      checkpointLayers: o.gradientCheckpointing === true,
      headWindow: parts.headWindow ?? "fit",
      sharePrompts: parts.sharePrompts ?? true
    }
    const active: ActiveAdapter = {
      lora,
      get feeds() {
        return adapterOnly(state)
      }
    }
    const generation = { tokenizer, eosIds: parts.eosIds, contextLength: parts.contextLength, maxBatch: parts.maxBatch, ...(parts.prefillRows === undefined ? {} : { maxPrefillRows: parts.prefillRows }), adapter: active }
    const sample = (prompts: ReadonlyArray<ReadonlyArray<number>>, params: SamplingParams) =>
      Effect.gen(function* () {
        // Requests without a seed draw one from the session's stream, so a resumed session samples the same.
        const requests = prompts.map((promptIds, i) => ({ promptIds, params: { ...params, seed: params.seed === undefined ? rng.nextSeed() : params.seed + i } }))
        const generated = yield* generateTokens(runtime, requests, generation)
        return generated.map((g, i): Sampled => {
          // Our own generator always reports token ids and logprobs (optional only for remote providers).
          const completion = g.tokenIds ?? []
          return { tokens: [...prompts[i]!, ...completion], promptLength: prompts[i]!.length, completion, text: g.text, logprobs: g.logprobs ?? [], finishReason: g.finishReason }
        })
      }).pipe(Effect.mapError(asPolicyError))
    return {
      sample,
      evaluate: (batch, want) => evaluate(ctx, batch, want),
      step: (objective, batch, feeds, hyper) => step(ctx, objective, batch, feeds, hyper),
      steps: () => state.step,
      restored,
      checkpoint: (dir, trainerState) => writeCheckpoint(runtime.backend, state, dir, identity, trainerState),
      exportAdapter: (dir) =>
        Effect.gen(function* () {
          const current = yield* currentAdapter(runtime.backend, state)
          yield* writeAdapter(dir, { ...current, config: { ...current.config, baseModelNameOrPath: parts.base?.nameOrPath ?? null, revision: parts.base?.revision ?? null } }, config)
        }).pipe(Effect.mapError((e) => new PolicyError({ reason: "Checkpoint", message: `cannot export the adapter into ${dir}: ${e.message}`, fix: "check that the folder is writable" }))),
      lm: makeLlamaLanguageModel(runtime, tokenizer, { id: `${parts.id}+policy-session`, contextLength: parts.contextLength, eosIds: parts.eosIds, maxBatch: parts.maxBatch, ...(parts.prefillRows === undefined ? {} : { prefillRows: parts.prefillRows }), adapter: active })
    } satisfies PolicySession
  })
