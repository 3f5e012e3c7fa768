/**
 * `unieval/dialog`: UniEval's dialogue evaluator (`MingZhong/unieval-dialog`,
 * a T5 encoder-decoder) as a `Scorer` on the recipe's `Backend`; parts
 * `naturalness`, `coherence`, `understandability`, value = their mean.
 *
 * @example
 * ```yaml
 * resources:
 *   compute: { _component_: backend-onnx/onnx }
 *   unieval: { _component_: unieval/dialog, backend: compute, path: models/unieval-dialog }
 * ```
 */
import { Effect, Schema } from "effect"
import * as nodePath from "node:path"
import { defineResource, RecipePath, resolveRecipePath, Scorer, StageError, withDefault } from "@refine-af/core"
import { ensureFolderFits, folderIdentity, loadT5, loadTokenizer, runDigestMemo } from "@refine-af/models"
import { Backend } from "@refine-af/tensor"
import { uniEvalDialogDimensions } from "@refine-af/text"
import { checkUniEvalFolder } from "./folder-check.ts"
import { makeUniEvalScorer } from "./scorer.ts"

/** What an absent option means: the Schema fills these in; options built by hand (tests) fall back to the same values. */
export const uniEvalDefaults = { dimensions: uniEvalDialogDimensions, batch_size: 8, max_length: 1024, weights: "safetensors" } as const

/** Options of `unieval/dialog`. */
export const UniEvalResourceOptions = Schema.Struct({
  /** The unieval-dialog folder (relative to the recipe); `validate` checks that it exists. */
  path: RecipePath("dir", "unieval-dialog folder in Hugging Face layout (config.json, weights, tokenizer.json), relative to the recipe's folder", checkUniEvalFolder).annotate({ description: "The unieval-dialog folder (relative to the recipe); `validate` checks that it exists." }),
  /** Dimensions scored. */
  dimensions: Schema.Array(Schema.Literals(uniEvalDialogDimensions)).annotate({ description: "Dimensions scored." }).pipe(withDefault(uniEvalDefaults.dimensions)),
  /** Questions per program run. */
  batch_size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "Questions per program run." }).pipe(withDefault(uniEvalDefaults.batch_size)),
  /** Tokens kept per question (UniEval's 1024 by default). */
  max_length: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)).annotate({ description: "Tokens kept per question (UniEval's 1024 by default)." }).pipe(withDefault(uniEvalDefaults.max_length)),
  weights: Schema.Literals(["safetensors", "bin"]).annotate({ description: "Which weights file to read when the folder has both (.bin is read by the safe unpickler)." }).pipe(withDefault(uniEvalDefaults.weights))
})

const fix = "Point path at a folder with config.json, model.safetensors or pytorch_model.bin, tokenizer.json and tokenizer_config.json (see plugins/unieval/README.md for how to get MingZhong/unieval-dialog)."

/** The `unieval/dialog` resource component. */
export const dialog = defineResource({
  description: "UniEval dialogue evaluator (T5; safetensors or .bin) as a Scorer: P(Yes)/(P(Yes)+P(No)) per dimension (naturalness, coherence, understandability), value = mean.",
  provides: Scorer,
  options: UniEvalResourceOptions,
  uses: { backend: Backend },
  make: (ctx) =>
    Effect.gen(function*() {
      const folder = resolveRecipePath(ctx, ctx.options.path)
      // Refused before any weight is read when it cannot fit (needed vs available, which precision would).
      yield* ensureFolderFits(folder, "unieval/dialog")
      const model = yield* loadT5(folder, { prefer: ctx.options.weights ?? uniEvalDefaults.weights })
      const tokenizer = yield* loadTokenizer(folder)
      const modelId = yield* folderIdentity(folder, JSON.stringify(model.config), ["config.json", nodePath.basename(model.weightsFile), "tokenizer.json"], runDigestMemo(ctx.cacheDir))
      const maxLength = ctx.options.max_length ?? uniEvalDefaults.max_length
      let truncatedTotal = 0
      return yield* makeUniEvalScorer(model, tokenizer, ctx.uses.backend, {
        name: `unieval/dialog (${ctx.name})`,
        modelId,
        batchSize: ctx.options.batch_size ?? uniEvalDefaults.batch_size,
        maxLength,
        ...(ctx.options.dimensions === undefined ? {} : { dimensions: ctx.options.dimensions }),
        cacheDir: ctx.cacheDir,
        onTruncated: (count, longest, samples) => {
          truncatedTotal += count
          return Effect.andThen(
            ctx.events.warn(`${ctx.name}: ${count} question(s) of ${samples} sample(s) longer than ${maxLength} tokens (longest ${longest}) were truncated`),
            ctx.events.metric("unieval_truncated", truncatedTotal)
          )
        }
      })
    }).pipe(Effect.mapError((error) => new StageError({ stage: ctx.name, message: `${ctx.name}: ${error.message}`, fix })))
})
