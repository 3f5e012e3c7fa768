/**
 * Recipe stage `llama/merge`: a merged model folder on request. Reads the PEFT
 * adapter a trainer stage wrote (port `adapter`: `sft/lora`, `ppo/train`,
 * `grpo/train`, … with `adapter/` in their folder), merges it into the base
 * (W + scale·B·A) and writes a plain Hugging Face folder — `config.json`,
 * `model.safetensors` (the base's dtype by default; sharded past 5 GB),
 * tokenizer and generation files — to
 * `<stage dir>/model`, loadable by `llama/hf` `path:` or `transformers`
 * without PEFT. One summary record.
 *
 * The base is either the `llama/hf` resource the adapter was trained on (slot
 * `base`: its loaded weights are shared, not read again) or a folder given as
 * `path` / `builtin`, as `llama/hf` takes them. The stage's identity follows
 * its inputs: the trainer's output hash and the base resource's identity (or
 * the path's content id) are part of the cache key, so a re-trained adapter or
 * another base re-merges and an unchanged pair is a cache hit. The folder is
 * rewritten in full on every (re)run, before the record, so resume needs no
 * bookkeeping.
 *
 * @example
 * ```yaml
 * stages:
 *   merged:
 *     _component_: llama/merge
 *     adapter: sft      # the trainer stage
 *     base: policy      # the llama/hf resource it trained on (or path: / builtin: as llama/hf)
 * ```
 */
import * as fs from "node:fs"
import { rm } from "node:fs/promises"
import * as nodePath from "node:path"
import { defineStage, optionalSlot, RecipePath, resolveRecipePath, StageError, withDefault } from "@refine-af/core"
import { checkLlamaFolder } from "@refine-af/models"
import { Effect, Schema } from "effect"
import { modelFolder } from "./builtin/model-source.ts"
import { LlamaCheckpoint, readLlamaCheckpoint } from "./checkpoint.ts"
import { readAdapter } from "./peft/adapter-io.ts"
import { writeMergedFolder } from "./peft/write-merged.ts"
import { BuiltinModelOption } from "./resource.ts"

/** Options of `llama/merge`. */
export const MergeStageOptions = Schema.Struct({
  /** Base model folder in Hugging Face layout, instead of the slot `base` (give one of `base`, `path`, `builtin`). */
  path: Schema.optionalKey(RecipePath("dir", "base model folder in Hugging Face layout; or connect base: to a llama/hf resource", checkLlamaFolder)).annotate({ description: "Base model folder in Hugging Face layout, instead of the slot `base` (give one of `base`, `path`, `builtin`)." }),
  /** A built-in base model (as `llama/hf`), instead of the slot `base`. */
  builtin: Schema.optionalKey(BuiltinModelOption).annotate({ description: "A built-in base model (as `llama/hf`: `speaker`, or `{ preset, seed }`), instead of the slot `base`." }),
  /** Folder of the adapter inside the trainer stage's output folder (default `adapter`). */
  subdir: Schema.optionalKey(Schema.String).annotate({ description: "Folder of the adapter inside the trainer stage's output folder (default `adapter`)." }),
  /** The merged weights' dtype. */
  dtype: Schema.Literals(["auto", "float32", "float16", "bfloat16"]).annotate({
    description: "The merged weights' dtype: auto (the base's stored dtype, from its config.json: a bfloat16 / float16 base gives a folder of the same size, as PEFT's merge_and_unload + save_pretrained would), float32 (exact: no rounding of W + scale·B·A, twice the size of a half-precision base), float16 or bfloat16. The merge is computed in float32 and rounded once."
  }).pipe(withDefault("auto")),
  /** Largest weight file, in GB (10⁹ bytes), before the weights are split into shards with an index. */
  max_shard_gb: Schema.Number.check(Schema.isGreaterThan(0)).annotate({ description: "Largest weight file in GB (10⁹ bytes), as transformers' max_shard_size: past it, the weights go into model-0000k-of-0000n.safetensors shards with model.safetensors.index.json." }).pipe(withDefault(5))
})

/** Where the merged folder goes inside the stage folder. */
export const MERGED_FOLDER = "model"

/** The stage component. */
export const mergeStage = defineStage({
  role: "transform",
  description: "Merges a trainer stage's PEFT adapter (port adapter) into its base model (slot base: a llama/hf resource, or path / builtin) and writes a plain Hugging Face folder to model/ in the stage folder; one summary record.",
  deterministic: true,
  options: MergeStageOptions,
  inputs: { adapter: { description: "trainer stage whose output folder holds the PEFT adapter (adapter_config.json + adapter_model.safetensors)" } },
  uses: { base: optionalSlot(LlamaCheckpoint) },
  run: (ctx) =>
    Effect.gen(function* () {
      const fail = (message: string, fix: string) => new StageError({ stage: ctx.name, message: `${ctx.name}: ${message}`, fix })
      const input = ctx.inputs["adapter"]
      if (input === undefined) return yield* fail("no adapter stage is connected", "set adapter: <trainer stage name> on this stage")
      const { path, builtin } = ctx.options
      const given = [ctx.uses.base === undefined ? [] : ["base"], path === undefined ? [] : ["path"], builtin === undefined ? [] : ["builtin"]].flat()
      if (given.length !== 1) {
        return yield* fail(
          given.length === 0 ? "no base model is given" : `the base model is given ${given.length} times (${given.join(", ")})`,
          "give exactly one: base: <the llama/hf resource the adapter was trained on>, or path: / builtin: as llama/hf takes them"
        )
      }
      const folder = nodePath.join(input.dir, ctx.options.subdir ?? "adapter")
      if (!fs.existsSync(nodePath.join(folder, "adapter_config.json"))) {
        return yield* fail(
          `stage "${input.stage}" wrote no PEFT adapter at ${folder}`,
          "connect a trainer stage that exports an adapter (sft/lora, ppo/train, grpo/train), or set subdir to where it writes one"
        )
      }
      const baseResource = ctx.uses.base
      // A base held below float32 is merged from its folder's float32 weights (merging into quantised values would bake their error in).
      const base = baseResource !== undefined && baseResource.quantised !== true ? baseResource : baseResource !== undefined
        ? yield* readLlamaCheckpoint(baseResource.folder).pipe(Effect.mapError((error) => fail(`cannot read the base model ${baseResource.folder}: ${error.message}`, "point path at a complete Llama-family Hugging Face folder (config.json, model.safetensors, tokenizer.json)")))
        : (yield* modelFolder({
        ...(path === undefined ? {} : { path }),
        ...(builtin === undefined ? {} : { builtin: typeof builtin === "object" && builtin.cacheDir !== undefined ? { ...builtin, cacheDir: resolveRecipePath(ctx, builtin.cacheDir) } : builtin })
      }).pipe(
        Effect.mapError((error) => fail(error.message, error.fix)),
        Effect.flatMap((baseFolder) => readLlamaCheckpoint(baseFolder).pipe(Effect.mapError((error) => fail(`cannot read the base model ${baseFolder}: ${error.message}`, "point path at a complete Llama-family Hugging Face folder (config.json, model.safetensors, tokenizer.json)"))))
      ))
      const adapter = yield* readAdapter(folder, base.config).pipe(Effect.mapError((error) => {
        const problems = error._tag === "AdapterFormatError" ? error.problems : []
        return problems.some((p) => p.includes("another base model"))
          ? fail(`the adapter of stage "${input.stage}" does not fit the base model ${base.id}: ${error.message}`, "give as base the model the trainer stage trained on (base: its llama/hf resource)")
          : fail(`the adapter of stage "${input.stage}" is damaged or not a LoRA adapter: ${error.message}`, `re-run stage "${input.stage}" (e.g. with --no-cache) so it writes a complete adapter folder`)
      }))
      const missing = [...adapter.pairs.keys()].filter((module) => base.weights[`${module}.weight`] === undefined)
      if (missing.length > 0) {
        return yield* fail(
          `the adapter of stage "${input.stage}" targets modules the base model ${base.id} lacks: ${missing.slice(0, 4).join(", ")}${missing.length > 4 ? ` and ${missing.length - 4} more` : ""}`,
          "give as base the model the trainer stage trained on (base: its llama/hf resource)"
        )
      }
      const out = nodePath.join(ctx.dir, MERGED_FOLDER)
      const written = yield* Effect.tryPromise({ try: () => rm(out, { recursive: true, force: true }), catch: (cause) => cause }).pipe(
        Effect.andThen(writeMergedFolder({ baseFolder: base.folder, weights: base.weights, adapter, out, adapterSource: `stage \`${input.stage}\` (output ${input.hash})`, dtype: ctx.options.dtype, maxShardBytes: ctx.options.max_shard_gb * 1e9 })),
        Effect.mapError((error) => fail(`could not write the merged model into ${out}: ${error instanceof Error ? error.message : String(error)}`, "check that the run folder is writable and the disk has space"))
      )
      const record = {
        folder: MERGED_FOLDER,
        base: base.id,
        adapterStage: input.stage,
        adapterHash: input.hash,
        mergedModules: written.mergedModules,
        dtype: written.dtype,
        shards: written.shards,
        parameters: written.parameters,
        bytes: written.bytes
      }
      if (ctx.output.resumedCount === 0) yield* ctx.output.append([record])
      yield* ctx.output.checkpoint()
      yield* ctx.events.progress(1, 1)
      return { metrics: { merged_modules: written.mergedModules, parameters: written.parameters, bytes: written.bytes } }
    })
})
