/**
 * One request's progress through generation: sampling state, generated
 * tokens, incremental text, and when and why it finished.
 */
import type { FinishReason, Generation, GenerationChunk, SamplingParams } from "@refine-af/core"
import { firstStopIndex, sampleNext } from "../sampling/sample.ts"
import { seededUniform, type Uniform } from "../sampling/prng.ts"
import { makeIncrementalDecoder, type Tokenizer } from "../tokenizer/tokenizer.ts"

/** The mutable state of one generating request. */
export class GenerationRow {
  readonly generated: Array<number> = []
  readonly logprobs: Array<number> = []
  finish: FinishReason | null = null
  private text = ""
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

  /** Samples from this row's logits, records the token and updates the finish state. */
  accept(logits: Float32Array): void {
    const { tokenId, logprob } = sampleNext(logits, this.params, this.uniform, this.promptIds, this.generated)
    this.generated.push(tokenId)
    this.logprobs.push(logprob)
    if (this.eosIds.has(tokenId)) {
      this.finish = "eos"
      this.onChunk?.({ text: "", tokenId, logprob })
      return
    }
    const before = this.text.length
    this.text += this.decoder.push(tokenId)
    let delta = this.text.slice(before)
    if (this.longestStop > 0) {
      // Only the tail can contain a new match: the new text plus one stop length before it.
      const from = Math.max(0, before - this.longestStop + 1)
      const found = firstStopIndex(this.text.slice(from), this.params.stop)
      if (found >= 0) {
        this.stopAt = from + found
        this.finish = "stop"
        delta = this.text.slice(before, Math.max(before, this.stopAt))
      }
    }
    this.onChunk?.({ text: delta, tokenId, logprob })
    if (this.finish === null && this.generated.length >= this.budget) this.finish = "length"
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
