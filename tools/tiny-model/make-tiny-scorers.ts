/**
 * Writes the weights of the tiny scorer folders under `tools/golden/` with
 * `writeTinyScorer` of `@refine-af/models` (our tool, not PyTorch): each
 * folder's committed `config.json` + a seed → `model.safetensors`. The float64
 * golden scripts then read these weights, write the `pytorch_model.bin` copy
 * with torch.save, and compute the reference logits with their own forward:
 *
 *   npx tsx tools/tiny-model/make-tiny-scorers.ts
 *   /usr/bin/python3 tools/golden/gpt-neox/make_gpt_neox_golden.py
 *   /usr/bin/python3 tools/golden/t5/make_t5_golden.py
 *   /usr/bin/python3 tools/golden/llama-classifier/make_llama_classifier_golden.py
 *
 * `tools/tiny-model/make-tiny-scorers.test.ts` checks that this tool still
 * writes the committed bytes.
 */
import { readFileSync } from "node:fs"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { writeTinyScorer } from "@refine-af/models"

const golden = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "../golden")

/** The committed tiny scorer folders and their seeds. */
export const TINY_SCORERS = [
  { folder: "gpt-neox/tiny-gpt-neox-rm", seed: 11 },
  { folder: "gpt-neox/tiny-gpt-neox-cls", seed: 12 },
  { folder: "t5/tiny-t5-v1_0", seed: 21 },
  { folder: "t5/tiny-t5-v1_1", seed: 22 },
  { folder: "llama-classifier/tiny-llama-classifier", seed: 31 },
  { folder: "llama-classifier/tiny-qwen3-classifier", seed: 32 },
  { folder: "llama-classifier/tiny-gemma2-classifier", seed: 33 }
] as const

/** Writes one folder's weights into `out` (default: the committed folder). */
export const makeTinyScorer = (scorer: (typeof TINY_SCORERS)[number], out = nodePath.join(golden, scorer.folder)) =>
  Effect.runPromise(writeTinyScorer({ out, seed: scorer.seed, config: JSON.parse(readFileSync(nodePath.join(golden, scorer.folder, "config.json"), "utf8")) as Record<string, unknown> }))

if (process.argv[1] !== undefined && nodePath.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const scorer of TINY_SCORERS) {
    const { plan } = await makeTinyScorer(scorer)
    console.log(`${scorer.folder}: ${plan.length} tensors (seed ${scorer.seed})`)
  }
}
