/**
 * `validate`'s look into a reward-model folder (cheap, synchronous): the files
 * `reward-model/hf` reads are there — `config.json`, weights, `tokenizer.json` —
 * so a half-downloaded folder is a recipe problem (exit 2) before a run starts,
 * not a failure hours in, when the first RL stage makes the scorer.
 *
 * @example
 * ```ts
 * import { checkRewardModelFolder } from "@refine-af/reward-model"
 * const found = checkRewardModelFolder("/models/oasst-rm")
 * if (found !== undefined) console.error(found.problem, found.fix)
 * ```
 */
import { existsSync } from "node:fs"
import * as nodePath from "node:path"
import { checkFolderFitsMachine } from "@refine-af/models"

/** What the folder lacks and how to fix it, or undefined when every file is there. */
export const checkRewardModelFolder = (folder: string): { readonly problem: string; readonly fix: string } | undefined => {
  const has = (name: string) => existsSync(nodePath.join(folder, name))
  const missing = [
    ...(has("config.json") ? [] : ["config.json"]),
    ...(["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"].some(has) ? [] : ["weights (model.safetensors or pytorch_model.bin)"]),
    ...(has("tokenizer.json") ? [] : ["tokenizer.json"])
  ]
  // Every file is there: the model must also fit this machine (exit 2 now, not killed by the OS at load).
  if (missing.length === 0) return checkFolderFitsMachine(folder, "reward-model/hf")
  return {
    problem: `${folder} is not a reward-model folder: it has no ${missing.join(", ")}`,
    fix: "download it again (refine-af models pull OpenAssistant/oasst-rm-2.1-pythia-1.4b-epoch-2.5 --dir <folder>) or point path at a complete folder"
  }
}
