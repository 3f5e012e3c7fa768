/**
 * Options of `sft/lora` (recipe keys), with the defaults they take.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SftOptions } from "@refine-af/trainer-sft"
 * const options = Schema.decodeUnknownSync(SftOptions)({ epochs: 3, lr: 2e-4, lora: { rank: 16, alpha: 32 } })
 * ```
 */
import { RecipePath, withDefault } from "@refine-af/core"
import { LoraOptions } from "@refine-af/training"
import { Schema } from "effect"

const positiveInt = Schema.Int.check(Schema.isGreaterThan(0))


/**
 * A custom prompt: `{instruction}` and `{input}` are replaced; `no_input` is used for records with an empty input.
 * `response` wraps the trained text (`{output}` is replaced; default `{output}`): e.g. `" {output}"` when the
 * prompt ends with `Output:` and the model writes a space first, as in the SuperNI evaluation format.
 */
export const CustomTemplate = Schema.Struct({
  prompt: Schema.String.annotate({ description: "Prompt with `{instruction}` and `{input}` placeholders; the response follows it." }),
  no_input: Schema.optionalKey(Schema.String.annotate({ description: "Prompt for records with an empty input (default: `prompt`)." })),
  response: Schema.optionalKey(
    Schema.String.annotate({ description: "The trained text around the output: `{output}` is replaced (default `{output}`), e.g. \" {output}\" after a prompt ending in `Output:`." })
      .check(Schema.makeFilter((s: string) => (s.includes("{output}") ? undefined : "response must contain {output}")))
  )
})

export const SftOptions = Schema.Struct({
  /** A JSONL file of Alpaca records (instead of, or besides, the `data` input port); relative to the recipe. */
  path: Schema.optionalKey(RecipePath("file", "JSONL file of Alpaca records, relative to the recipe's folder")).annotate({ description: "A JSONL file of Alpaca records (instead of, or besides, the `data` input port); relative to the recipe." }),
  /** Prompt template: "alpaca" (Stanford Alpaca's), "chat" (the model's chat template), or a custom one. */
  template: Schema.Union([Schema.Literals(["alpaca", "chat"]), CustomTemplate]).annotate({ description: "Prompt template: \"alpaca\" (Stanford Alpaca's), \"chat\" (the model's chat template), or a custom one." }).pipe(withDefault("alpaca")),
  epochs: positiveInt.annotate({ description: "Passes over the training records." }).pipe(withDefault(1)),
  /** Stop after this many optimizer steps (default: every epoch). */
  max_steps: Schema.optionalKey(positiveInt).annotate({ description: "Stop after this many optimizer steps (default: every epoch)." }),
  /** Sequences per optimizer step. */
  batch_size: positiveInt.annotate({ description: "Sequences per optimizer step." }).pipe(withDefault(4)),
  /** Gradient accumulation: sequences per forward/backward (default: batch_size, no accumulation). */
  micro_batch_size: Schema.optionalKey(positiveInt).annotate({ description: "Gradient accumulation: sequences per forward/backward (default: batch_size, no accumulation)." }),
  /** Peak learning rate. */
  lr: Schema.Number.check(Schema.isGreaterThan(0)).annotate({ description: "Peak learning rate." }).pipe(withDefault(2e-4)),
  /** Linear warmup steps from 0 to lr (Hugging Face semantics). */
  warmup_steps: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "Linear warmup steps from 0 to lr (Hugging Face semantics)." }).pipe(withDefault(0)),
  /** Decay after warmup: cosine (to 0), linear (to 0) or constant. */
  schedule: Schema.Literals(["cosine", "linear", "constant"]).annotate({ description: "Decay after warmup: cosine (to 0), linear (to 0) or constant." }).pipe(withDefault("cosine")),
  weight_decay: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0)).annotate({ description: "AdamW decoupled weight decay on the adapter weights." }).pipe(withDefault(0)),
  /** Global gradient-norm clipping. */
  clip_grad_norm: Schema.Number.check(Schema.isGreaterThan(0)).annotate({ description: "Global gradient-norm clipping." }).pipe(withDefault(1)),
  lora: Schema.optionalKey(LoraOptions.annotate({ description: "The LoRA adapter (defaults: rank 8, alpha 16, q_proj/v_proj)." })),
  /** Recompute each decoder layer in the backward pass (less memory, more compute). */
  gradient_checkpointing: Schema.Boolean.annotate({ description: "Gradient checkpointing: recompute each decoder layer's activations in the backward pass instead of keeping them (about a third more compute per step, activation memory of one layer instead of all; same gradients)." }).pipe(withDefault(false)),
  /** Fraction of records held out for the eval loss (0 = none). */
  eval_fraction: Schema.Number.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThan(1)).annotate({ description: "Fraction of records held out for the eval loss (0 = none)." }).pipe(withDefault(0)),
  /** Compute the held-out loss every N steps (and at the end). */
  eval_every: positiveInt.annotate({ description: "Compute the held-out loss every N steps (and at the end)." }).pipe(withDefault(10)),
  /** Checkpoint into the stage's state folder every N steps. */
  checkpoint_every: positiveInt.annotate({ description: "Checkpoint into the stage's state folder every N steps." }).pipe(withDefault(10))
}).check(Schema.makeFilter<{ readonly batch_size?: number; readonly micro_batch_size?: number }>((o) =>
  // A micro-batch larger than the batch is the batch: accepted before, it did nothing.
  o.micro_batch_size !== undefined && o.micro_batch_size > (o.batch_size ?? 4)
    ? `micro_batch_size ${o.micro_batch_size} is larger than batch_size ${o.batch_size ?? 4}: lower it, or leave it out (no accumulation)`
    : undefined))
export type SftOptions = typeof SftOptions.Type

/** The options under the names the stage uses (the Schema has filled in every default). */
export const resolveSftOptions = (o: SftOptions) => ({
  template: o.template,
  epochs: o.epochs,
  maxSteps: o.max_steps,
  batchSize: o.batch_size,
  microBatchSize: o.micro_batch_size,
  lr: o.lr,
  warmupSteps: o.warmup_steps,
  schedule: o.schedule,
  weightDecay: o.weight_decay,
  clipGradNorm: o.clip_grad_norm,
  gradientCheckpointing: o.gradient_checkpointing,
  evalFraction: o.eval_fraction,
  evalEvery: o.eval_every,
  checkpointEvery: o.checkpoint_every
})
export type ResolvedSftOptions = ReturnType<typeof resolveSftOptions>
