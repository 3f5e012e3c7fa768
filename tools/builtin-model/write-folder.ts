/**
 * Writes the trained weights as a Hugging Face model folder (config.json,
 * generation_config.json, model.safetensors in float32); the tokenizer files
 * are already there.
 */
import { writeFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { writeSafetensors } from "@refine-af/models"
import type { HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"

/** Writes config, generation config and weights into `folder`. */
export const writeModelFolder = (folder: string, config: Readonly<Record<string, unknown>>, weights: Readonly<Record<string, HostTensor>>) =>
  Effect.gen(function* () {
    const tensors = Object.keys(weights).sort().map((name) => ({ name, dtype: "F32" as const, shape: [...weights[name]!.shape], data: weights[name]!.data as Float32Array }))
    yield* writeSafetensors(nodePath.join(folder, "model.safetensors"), tensors, { format: "pt" })
    yield* Effect.promise(async () => {
      await writeFile(nodePath.join(folder, "config.json"), JSON.stringify(config, null, 2) + "\n")
      const eos = config.eos_token_id as number
      await writeFile(nodePath.join(folder, "generation_config.json"), JSON.stringify({ eos_token_id: [eos], pad_token_id: eos, do_sample: false }, null, 2) + "\n")
    })
  })
