/**
 * Recipe component `llama/adapted`: a base model plus an adapter that a trainer
 * stage produced (`ppo/train`, `sft/lora`, …), served as a `LanguageModel`.
 *
 * The adapter arrives through the input port `adapter` (a stage whose folder
 * holds a PEFT adapter, by default in `adapter/`), so the resource is made after
 * that stage and its identity follows the stage's output hash: a re-trained
 * adapter re-runs everything downstream, an unchanged one is a cache hit. The
 * frozen base weights are shared with the `base` resource (an adapter session
 * over the same `PolicyModel`), never loaded a second time.
 *
 * @example
 * ```yaml
 * resources:
 *   rlaf_lm:
 *     _component_: llama/adapted
 *     base: policy        # a llama/hf resource (provides PolicyModel)
 *     adapter: ppo        # the stage whose dir has adapter/
 * ```
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { defineResource, LanguageModel, StageError } from "@refine-af/core"
import { adapterIdentity } from "@refine-af/models"
import { defaultLoraConfig, PolicyModel } from "@refine-af/training"
import { Effect, Schema } from "effect"

/** Options of `llama/adapted`. */
export const AdaptedResourceOptions = Schema.Struct({
  /** Folder of the adapter inside the trainer stage's output folder (default `adapter`). */
  subdir: Schema.optionalKey(Schema.String).annotate({ description: "Folder of the adapter inside the trainer stage's output folder (default `adapter`)." })
})

/** The resource component. */
export const adaptedResource = defineResource({
  description: "A base model (slot base: PolicyModel) with the PEFT adapter a trainer stage wrote (port adapter), as a LanguageModel sharing the base weights.",
  provides: LanguageModel,
  options: AdaptedResourceOptions,
  uses: { base: PolicyModel },
  inputs: { adapter: { description: "trainer stage whose output folder holds the PEFT adapter (adapter_config.json + adapter_model.safetensors)" } },
  make: (ctx) =>
    Effect.gen(function*() {
      const input = ctx.inputs?.adapter
      const fail = (message: string, fix: string) => new StageError({ stage: ctx.name, message: `${ctx.name}: ${message}`, fix })
      if (input === undefined) {
        return yield* fail("no adapter stage is connected", "set adapter: <trainer stage name> on this resource")
      }
      const folder = path.join(input.dir, ctx.options.subdir ?? "adapter")
      if (!fs.existsSync(path.join(folder, "adapter_config.json"))) {
        return yield* fail(
          `stage "${input.stage}" wrote no PEFT adapter at ${folder}`,
          `connect a trainer stage that exports an adapter (ppo/train, sft/lora, grpo/train), or set subdir to where it writes one`
        )
      }
      const session = yield* ctx.uses.base.session({
        // The adapter folder's own rank, alpha and targets win over these.
        lora: defaultLoraConfig,
        seed: ctx.seed,
        initialAdapter: folder
      }).pipe(Effect.mapError((error) => fail(error.message, error.fix ?? "check that the adapter was trained for this base model")))
      // The id names the adapter's content, as llama/hf's adapter_path does: lineage, dataset cards and
      // score caches keyed by it (judge/lm) then tell two adapters over one base apart.
      const adapterId = yield* adapterIdentity(folder).pipe(Effect.mapError((error) => fail(error.message, "check that the adapter folder is complete and readable")))
      return { ...session.lm, info: { ...session.lm.info, id: `${ctx.uses.base.info.id}${adapterId}` } }
    })
})
