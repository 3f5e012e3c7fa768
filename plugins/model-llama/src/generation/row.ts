/**
 * One request's progress through generation: sampling state, generated
 * tokens, incremental text, and when and why it finished.
 */
import type { FinishReason, Generation, GenerationChunk, SamplingParams } from "@refine-af/core"
import { hasPenalties } from "../sampling/penalties.ts"
import { firstStopIndex, sampleNext } from "../sampling/sample.ts"
import { seededUniform, type Uniform } from "../sampling/prng.ts"
import { makeIncrementalDecoder, type Tokenizer } from "@refine-af/models"

/** The mutable state of one generating request. */
export class GenerationRow {
  readonly generated: Array<number> = []
  readonly logprobs: Array<number> = []
  finish: FinishReason | null = null
  private text = ""
  /** How much of `text` has been streamed. */
  private emitted = 0
  private stopAt = -1
  private readonly uniform: Uniform
  private readonly decoder: ReturnType<typeof makeIncrementalDecoder>
  private readonly longestStop: number

  constructor(
    readonly promptIds: ReadonlyArray<number>,
    readonly params: SamplingParams,
    /** New-token budget after clamping to the context. */
    readonly budget: number,
    private readonly tokenizer: Pick<Tokenizer, "decode">,
    private readonly eosIds: ReadonlySet<number>,
    private readonly onChunk?: (chunk: GenerationChunk) => void
  ) {
    // Without a seed, draw one: unseeded requests are random, seeded ones reproducible.
    this.uniform = seededUniform(params.seed ?? Math.floor(Math.random() * 2 ** 32))
    this.decoder = makeIncrementalDecoder(tokenizer)
    this.longestStop = Math.max(0, ...(params.stop ?? []).map((s) => s.length))
    if (budget <= 0) this.finish = "length"
  }

  /** Samples from this row's logits (and their log-sum-exp, when known), records the token and updates the finish state. */
  accept(logits: Float32Array, logSumExp?: number): void {
    const { tokenId, logprob } = sampleNext(logits, this.params, this.uniform, this.promptIds, this.generated, logSumExp)
    this.acceptToken(tokenId, logprob)
  }

  /**
   * True when the next token is the argmax of the raw logits: temperature 0
   * and no penalties. The model then computes the choice itself
   * (`argmax`, `max_logit`) and the row never needs its logits.
   */
  get greedy(): boolean {
    return this.params.temperature !== undefined && this.params.temperature <= 0 && !hasPenalties(this.params)
  }

  /** Records a chosen token and its logprob (raw distribution) and updates the finish state. */
  acceptToken(tokenId: number, logprob: number): void {
    this.generated.push(tokenId)
    this.logprobs.push(logprob)
    const emit = (end: number) => {
      const text = this.text.slice(this.emitted, Math.max(this.emitted, end))
      this.emitted = Math.max(this.emitted, end)
      this.onChunk?.({ text, tokenId, logprob })
    }
    if (this.eosIds.has(tokenId)) {
      this.finish = "eos"
      return emit(this.text.length)
    }
    this.text += this.decoder.push(tokenId)
    if (this.longestStop > 0) {
      // Text before `emitted` holds no stop and no stop prefix (those are held back), so a match starts at or after it.
      const found = firstStopIndex(this.text.slice(this.emitted), this.params.stop)
      if (found >= 0) {
        this.stopAt = this.emitted + found
        this.finish = "stop"
        return emit(this.stopAt)
      }
    }
    if (this.generated.length >= this.budget) {
      this.finish = "length"
      return emit(this.text.length)
    }
    emit(this.text.length - this.partialStopSuffix())
  }

  /** Length of the longest suffix of the text that begins some stop string (held back from streaming until resolved). */
  private partialStopSuffix(): number {
    for (let k = Math.min(this.longestStop - 1, this.text.length); k > 0; k--) {
      const suffix = this.text.slice(this.text.length - k)
      if ((this.params.stop ?? []).some((stop) => stop.length > k && stop.startsWith(suffix))) return k
    }
    return 0
  }

  /**
   * What a prefill of this row reads: its prompt, and what it has generated when
   * it joins again (a longrope model's rows, once they outgrow the original
   * context: their cache was rotated with the short factors).
   */
  get contextIds(): ReadonlyArray<number> {
    return this.generated.length === 0 ? this.promptIds : [...this.promptIds, ...this.generated]
  }

  /** Tokens so far, prompt and generated (`contextIds.length`, without building the list). */
  get length(): number {
    return this.promptIds.length + this.generated.length
  }

  /** New tokens this row may still take. */
  get remaining(): number {
    return this.budget - this.generated.length
  }

  /** The last token fed to the model (the newest generated one). */
  get lastToken(): number {
    return this.generated[this.generated.length - 1]!
  }

  /** The finished generation (text without special tokens, cut before a stop string). */
  result(): Generation {
    const full = this.tokenizer.decode(this.generated)
    return {
      text: this.stopAt >= 0 ? this.text.slice(0, this.stopAt) : full,
      tokenIds: [...this.generated],
      logprobs: [...this.logprobs],
      finishReason: this.finish ?? "length",
      promptTokens: this.promptIds.length
    }
  }
}
