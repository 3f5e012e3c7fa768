/**
 * Stage component `llama/merge`: a merged model folder on request — the base model with the
 * PEFT adapter a trainer stage wrote merged in (W + scale·B·A), as a plain Hugging Face folder
 * in `<stage dir>/model` that runs anywhere without PEFT (`writeMergedModel`). One record
 * names the folder, the base and the adapter stage.
 *
 * @example
 * ```yaml
 * stages:
 *   merged:
 *     _component_: llama/merge
 *     adapter: sft_rlaf      # the trainer stage whose folder has adapter/
 *     builtin: speaker       # the base model: builtin or path, as llama/hf
 * ```
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { defineStage, RecipePath, resolveRecipePath, StageError } from "@refine-af/core"
import { checkLlamaFolder } from "@refine-af/models"
import { Effect, Schema } from "effect"
import { modelFolder } from "./builtin/model-source.ts"
import { writeMergedModel } from "./peft/write-merged.ts"
import { BuiltinModelOption } from "./resource.ts"

/** Options of `llama/merge`. */
export const MergeStageOptions = Schema.Struct({
  /** Base model folder in Hugging Face layout (give this or `builtin`, the same as the `llama/hf` the adapter was trained on). */
  path: Schema.optionalKey(RecipePath("dir", "base model folder in Hugging Face layout; give this or `builtin`", checkLlamaFolder)),
  /** A built-in base model instead of a folder (as `llama/hf`). */
  builtin: Schema.optionalKey(BuiltinModelOption),
  /** Folder of the adapter inside the trainer stage's output folder (default `adapter`). */
  subdir: Schema.optionalKey(Schema.String)
})

/** The merge stage component. */
export const mergeStage = defineStage({
  role: "transform",
  description: "Merges the PEFT adapter of a trainer stage (port adapter) into its base model (path or builtin) and writes a plain Hugging Face model folder in <stage dir>/model.",
  deterministic: true,
  options: MergeStageOptions,
  inputs: { adapter: { description: "trainer stage whose output folder holds the PEFT adapter (ppo/train, sft/lora, group/grpo)" } },
  run: (ctx) =>
    Effect.gen(function* () {
      const fail = (message: string, fix: string) => new StageError({ stage: ctx.name, message: `${ctx.name}: ${message}`, fix })
      const input = ctx.inputs["adapter"]
      if (input === undefined) return yield* fail("no adapter stage is connected", "set adapter: <trainer stage name> on this stage")
      const adapter = path.join(input.dir, ctx.options.subdir ?? "adapter")
      if (!fs.existsSync(path.join(adapter, "adapter_config.json"))) {
        return yield* fail(`stage "${input.stage}" wrote no PEFT adapter at ${adapter}`, "connect a trainer stage that exports an adapter (ppo/train, sft/lora, group/grpo), or set subdir to where it writes one")
      }
      const { builtin } = ctx.options
      const base = yield* modelFolder({
        ...(ctx.options.path === undefined ? {} : { path: ctx.options.path }),
        ...(builtin === undefined ? {} : { builtin: typeof builtin === "object" && builtin.cacheDir !== undefined ? { ...builtin, cacheDir: resolveRecipePath(ctx, builtin.cacheDir) } : builtin })
      }).pipe(Effect.mapError((error) => fail(error.message, error.fix)))
      const out = path.join(ctx.dir, "model")
      const merged = yield* writeMergedModel({ base, adapter, out }).pipe(
        Effect.mapError((error) => fail(error.message, "check that the adapter was trained on this base model (same architecture and sizes)"))
      )
      if (ctx.output.resumedCount === 0) yield* ctx.output.append([{ folder: "model", adapterStage: input.stage, mergedModules: merged.mergedModules }])
      yield* ctx.output.checkpoint()
      return { metrics: { merged_modules: merged.mergedModules } }
    })
})
