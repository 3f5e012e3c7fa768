/**
 * The `PolicyModel` service: a trainable language model. It holds the frozen
 * base weights once and opens any number of {@link PolicySession}s over them,
 * each with its own adapter and optimizer state, released with its `Scope`.
 *
 * Providers: `llama/hf` (alongside `LanguageModel`, weights loaded once); the
 * tiny table policy in `@refine-af/testing` for algorithm tests. Consumers:
 * trainer stages (`sft/lora`, `ppo/train`, `grpo/train`, …) through a
 * resource slot `uses: { policy: PolicyModel }`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { defaultLoraConfig, PolicyModel } from "@refine-af/training"
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const policy = yield* PolicyModel
 *     const session = yield* policy.session({ lora: defaultLoraConfig, valueHead: true, seed: 7 })
 *     const prompt = yield* policy.encode("Say hi:")
 *     return yield* session.sample([prompt], { maxNewTokens: 8, temperature: 1 })
 *   })
 * )
 * ```
 */
import type { ChatMessage } from "@refine-af/core"
import { Context, type Effect, type Scope } from "effect"
import type { PolicyError } from "./errors.ts"
import type { LoraConfig } from "./lora.ts"
import type { PolicySession } from "./policy-session.ts"

export interface PolicyModelInfo {
  /** Stable identity of the base weights (as `LanguageModelInfo.id`); part of cache keys. */
  readonly id: string
  /** Longest prompt + completion a session accepts. */
  readonly contextLength: number
  readonly vocabSize: number
  /** End-of-sequence token ids; sampling stops at any of them. SFT appends the first to each response. */
  readonly eosTokenIds: ReadonlyArray<number>
  /** Token to put before every prompt when the model was trained with one (HF `add_bos_token`); undefined when none. */
  readonly bosTokenId?: number
  /** Module names LoRA may target (PEFT `target_modules` names, e.g. `q_proj`). */
  readonly loraTargets: ReadonlyArray<string>
  /** The targets a recipe that names none gets, where {@link defaultLoraConfig}'s q_proj / v_proj do not fit this model (phi3: its fused `qkv_proj`). */
  readonly defaultLoraTargets?: ReadonlyArray<string>
  /** Whether `applyChatTemplate` works. */
  readonly hasChatTemplate: boolean
}

/**
 * A prompt's tokens with the model's BOS first (`info.bosTokenId`), unless they
 * already start with it: a chat template that writes the BOS text itself (Llama 3's
 * `<|begin_of_text|>`, Gemma's `<bos>`) encodes to it, and a second BOS is a
 * sequence the model never saw in training.
 *
 * @example
 * ```ts
 * import { withLeadingBos } from "@refine-af/training"
 * withLeadingBos({ bosTokenId: 2 }, [2, 106, 1645]) // [2, 106, 1645]
 * withLeadingBos({ bosTokenId: 2 }, [106, 1645]) // [2, 106, 1645]
 * ```
 */
export const withLeadingBos = (info: { readonly bosTokenId?: number }, tokens: ReadonlyArray<number>): Array<number> =>
  info.bosTokenId === undefined || tokens[0] === info.bosTokenId ? [...tokens] : [info.bosTokenId, ...tokens]

/** AdamW settings of a session (the learning rate is per step). torch defaults except weight decay 0, as PEFT fine-tuning uses. */
export interface OptimizerConfig {
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  readonly weightDecay?: number
}

export interface SessionOptions {
  readonly lora: LoraConfig
  /** Add a trainable scalar value head on the final hidden state (zero-initialised), for PPO. */
  readonly valueHead?: boolean
  readonly optimizer?: OptimizerConfig
  /**
   * Gradient checkpointing: training steps keep one hidden state per decoder
   * layer and recompute each layer's activations in the backward pass (about
   * a third more compute per step, activation memory of one layer instead of
   * all). Same gradients. Default false.
   */
  readonly gradientCheckpointing?: boolean
  /** Seeds the adapter's initialisation, LoRA dropout and sampling. */
  readonly seed: number
  /**
   * A folder written by `checkpoint`: restore adapter, value head, moments, random
   * state and step from it. A folder without a checkpoint (or none yet) starts fresh,
   * so a trainer may always pass its state folder.
   */
  readonly resumeFrom?: string
  /** Start the adapter from a PEFT folder instead of a fresh initialisation (its rank/alpha/targets win). */
  readonly initialAdapter?: string
}

export interface PolicyModelService {
  readonly info: PolicyModelInfo
  /** Token ids of `text` (no special tokens added). */
  readonly encode: (text: string) => Effect.Effect<ReadonlyArray<number>, PolicyError>
  /** Text of token ids (special tokens skipped). */
  readonly decode: (tokens: ReadonlyArray<number>) => Effect.Effect<string, PolicyError>
  /** Renders chat messages with the model's chat template; reason `Unsupported` when it has none. */
  readonly applyChatTemplate: (messages: ReadonlyArray<ChatMessage>, options?: { readonly addGenerationPrompt?: boolean }) => Effect.Effect<string, PolicyError>
  /**
   * Opens a trainer session over the shared frozen weights. Fails with reason
   * `UnknownLoraTarget` for a target the model lacks, `Checkpoint` for an unreadable
   * or mismatched `resumeFrom` checkpoint.
   */
  readonly session: (options: SessionOptions) => Effect.Effect<PolicySession, PolicyError, Scope.Scope>
}

export class PolicyModel extends Context.Service<PolicyModel, PolicyModelService>()("@refine-af/training/PolicyModel") {}
