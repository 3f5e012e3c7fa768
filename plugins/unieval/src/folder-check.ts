/**
 * `validate`'s look into a UniEval folder (cheap, synchronous): the files
 * `unieval/dialog` reads are there — `config.json`, weights, `tokenizer.json` —
 * so a half-downloaded folder, or one with only SentencePiece's `spiece.model`,
 * is a recipe problem (exit 2) before a run starts, not a failure hours in.
 *
 * @example
 * ```ts
 * import { checkUniEvalFolder } from "@refine-af/unieval"
 * const found = checkUniEvalFolder("/models/unieval-dialog")
 * if (found !== undefined) console.error(found.problem, found.fix)
 * ```
 */
import { existsSync } from "node:fs"
import * as nodePath from "node:path"
import { checkFolderFitsMachine } from "@refine-af/models"

/** What the folder lacks and how to fix it, or undefined when every file is there. */
export const checkUniEvalFolder = (folder: string): { readonly problem: string; readonly fix: string } | undefined => {
  const has = (name: string) => existsSync(nodePath.join(folder, name))
  const missing = [
    ...(has("config.json") ? [] : ["config.json"]),
    ...(["model.safetensors", "pytorch_model.bin"].some(has) ? [] : ["weights (model.safetensors or pytorch_model.bin)"]),
    ...(has("tokenizer.json") ? [] : ["tokenizer.json"])
  ]
  // Every file is there: the model must also fit this machine (exit 2 now, not killed by the OS at load).
  if (missing.length === 0) return checkFolderFitsMachine(folder, "unieval/dialog")
  const onlySentencePiece = missing.length === 1 && missing[0] === "tokenizer.json" && has("spiece.model")
  return {
    problem: `${folder} is not a UniEval (T5) folder: it has no ${missing.join(", ")}`,
    fix: onlySentencePiece
      ? "write tokenizer.json once from spiece.model (see plugins/unieval/README.md: transformers' AutoTokenizer.save_pretrained, or copy t5-large's tokenizer.json)"
      : "download it again (refine-af models pull MingZhong/unieval-dialog --dir <folder>) or point path at a complete folder"
  }
}
