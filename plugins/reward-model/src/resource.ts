/**
 * `reward-model/hf`: a `Scorer` from a Hugging Face reward-model folder — an
 * OpenAssistant GPT-NeoX reward model (`GPTNeoXRewardModel`, head `out_proj`)
 * a GPT-NeoX sequence classifier (`score`), or a Llama / Mistral / Qwen2
 * sequence classifier (a Llama-based reward model) — with `config.json`,
 * `model.safetensors` or `pytorch_model.bin` (read safely), and
 * `tokenizer.json` + `tokenizer_config.json`. Runs on the recipe's `Backend`.
 *
 * @example
 * ```yaml
 * resources:
 *   compute: { _component_: backend-onnx/onnx }
 *   rm:
 *     _component_: reward-model/hf
 *     backend: compute
 *     path: models/oasst-rm-2.1-pythia-1.4b-epoch-2.5
 * ```
 */
import { Effect, Schema } from "effect"
import { existsSync } from "node:fs"
import * as nodePath from "node:path"
import { defineResource, RecipePath, resolveRecipePath, Scorer, StageError, withDefault } from "@refine-af/core"
import { configDescription, folderIdentity, loadTokenizer, runDigestMemo } from "@refine-af/models"
import { Backend } from "@refine-af/tensor"
import { loadScoringModel } from "./architectures.ts"
import { checkRewardModelFolder } from "./folder-check.ts"
import { makeRewardModelScorer } from "./scorer.ts"
import { CHAT_TEMPLATE, oasstTemplate } from "./template.ts"

/** What an absent option means: the Schema fills these in; options built by hand (tests) fall back to the same values. */
export const rewardModelDefaults = { template: oasstTemplate, batch_size: 8, weights: "safetensors" } as const

/** Options of `reward-model/hf`. */
export const RewardModelResourceOptions = Schema.Struct({
  /** The model folder (relative to the recipe); `validate` checks that it exists. */
  path: RecipePath("dir", "reward-model folder in Hugging Face layout (config.json, weights, tokenizer.json), relative to the recipe's folder", checkRewardModelFolder).annotate({ description: "The model folder (relative to the recipe); `validate` checks that it exists." }),
  /** Text the model reads; default OpenAssistant's `<|prompter|>{prompt}<|endoftext|><|assistant|>{response}<|endoftext|>`; `chat`: through the model's own chat template. */
  template: Schema.String.annotate({ description: "Text the model reads; default OpenAssistant's `<|prompter|>{prompt}<|endoftext|><|assistant|>{response}<|endoftext|>`; `chat`: the prompt as a user turn and the output as the answer through the model's own chat template (chat-tuned reward models such as Skywork-Reward-V2)." }).pipe(withDefault(rewardModelDefaults.template)),
  /** Rows per program run. */
  batch_size: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "Rows per program run." }).pipe(withDefault(rewardModelDefaults.batch_size)),
  /** Tokens kept per sample (default: the model's max_position_embeddings, capped at 2048). */
  max_length: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(2))).annotate({ description: "Tokens kept per sample (default: the model's max_position_embeddings, capped at 2048)." }),
  /** Which weights file to read when the folder has both. */
  weights: Schema.Literals(["safetensors", "bin"]).annotate({ description: "Which weights file to read when the folder has both." }).pipe(withDefault(rewardModelDefaults.weights))
})

const fixFor = "Point path at a folder with config.json, model.safetensors or pytorch_model.bin, tokenizer.json and tokenizer_config.json (see plugins/reward-model/README.md for how to get OpenAssistant's reward model)."

/** The `reward-model/hf` resource component. */
export const hf = defineResource({
  description: "Reward model / sequence classifier from a Hugging Face folder (OpenAssistant GPT-NeoX RMs; safetensors or .bin) as a Scorer: value = logits[0].",
  provides: Scorer,
  options: RewardModelResourceOptions,
  uses: { backend: Backend },
  make: (ctx) =>
    Effect.gen(function*() {
      const folder = resolveRecipePath(ctx, ctx.options.path)
      const model = yield* loadScoringModel(folder, ctx.options.weights ?? rewardModelDefaults.weights)
      const tokenizer = yield* loadTokenizer(folder)
      const template = ctx.options.template ?? rewardModelDefaults.template
      const chat = template === CHAT_TEMPLATE
      if (chat) {
        // Refused here, before any sample: a model without a chat template cannot read `chat`.
        yield* tokenizer.applyChatTemplate([{ role: "user", content: "?" }, { role: "assistant", content: "." }], { addGenerationPrompt: false }).pipe(
          Effect.mapError((e) => new StageError({ stage: ctx.name, message: `${ctx.name}: template: chat needs the model's chat template (${e.message})`, fix: `Use a reward model folder whose tokenizer_config.json has "chat_template" (or with chat_template.jinja, or a processor's chat_template.json), or write the format out in "template" with {prompt} and {response}.` }))
        )
      }
      // The chat template is part of what the model reads: its files key the score cache too.
      const templateFiles = chat ? ["tokenizer_config.json", "chat_template.jinja", "chat_template.json"].filter((f) => existsSync(nodePath.join(folder, f))) : []
      const modelId = yield* folderIdentity(folder, configDescription(model.config), ["config.json", nodePath.basename(model.weightsFile), "tokenizer.json", ...templateFiles], runDigestMemo(ctx.cacheDir))
      let truncatedTotal = 0
      return yield* makeRewardModelScorer(model, tokenizer, ctx.uses.backend, {
        name: `reward-model/hf (${ctx.name})`,
        modelId,
        template,
        batchSize: ctx.options.batch_size ?? rewardModelDefaults.batch_size,
        maxLength: ctx.options.max_length ?? Math.min(model.maxPositions, 2048),
        cacheDir: ctx.cacheDir,
        onTruncated: (count, longest) => {
          truncatedTotal += count
          return Effect.andThen(
            ctx.events.warn(`${ctx.name}: ${count} sample(s) longer than ${ctx.options.max_length ?? Math.min(model.maxPositions, 2048)} tokens (longest ${longest}) were truncated`),
            ctx.events.metric("reward_model_truncated", truncatedTotal)
          )
        }
      })
    }).pipe(Effect.mapError((error) => (error instanceof StageError ? error : new StageError({ stage: ctx.name, message: `${ctx.name}: ${error.message}`, fix: fixFor }))))
})
