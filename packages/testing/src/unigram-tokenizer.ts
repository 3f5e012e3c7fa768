/**
 * Writes a small SentencePiece-Unigram `tokenizer.json` + `tokenizer_config.json`
 * in T5's layout (Metaspace pre-tokenizer, `</s>` appended by the post-processor,
 * `<pad>` 0, `</s>` 1, `<unk>` 2) whose ids fit a tiny T5's 64-token vocabulary
 * (the tiny T5 folders of `tools/golden/t5`), with whole pieces for UniEval's
 * question words and for "Yes" / "No".
 *
 * @example
 * ```ts
 * import { writeUnigramTokenizer } from "@refine-af/testing"
 * const pieces = writeUnigramTokenizer("/tmp/tiny-unieval") // tokenizer.json + tokenizer_config.json
 * ```
 */
import { writeFileSync } from "node:fs"
import * as nodePath from "node:path"

/** Writes the two tokenizer files into `folder`; returns the pieces in id order. */
export const writeUnigramTokenizer = (folder: string): ReadonlyArray<string> => {
  const words = ["▁question", "▁response", "▁dialogue", "▁history", "▁Is", "▁this", "▁a", "▁an", "▁natural", "▁coherent", "▁understandable", "▁in", "▁the", "▁given", "▁Yes", "▁No"]
  const pieces: Array<[string, number]> = [["<pad>", 0], ["</s>", 0], ["<unk>", 0], ["▁", -3], [":", -4], ["?", -4], [".", -4]]
  for (const w of words) pieces.push([w, -2])
  for (const ch of "abcdefghijklmnopqrstuvwxyz") pieces.push([ch, -6])
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })
  const metaspace = { type: "Metaspace", replacement: "▁", add_prefix_space: true, prepend_scheme: "always", split: true }
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special("<pad>", 0), special("</s>", 1), special("<unk>", 2)],
    normalizer: null,
    pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, metaspace] },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
      pair: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }, { Sequence: { id: "B", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
      special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } }
    },
    decoder: metaspace,
    model: { type: "Unigram", unk_id: 2, vocab: pieces, byte_fallback: false }
  }
  writeFileSync(nodePath.join(folder, "tokenizer.json"), JSON.stringify(tokenizer))
  writeFileSync(nodePath.join(folder, "tokenizer_config.json"), JSON.stringify({
    tokenizer_class: "T5Tokenizer", eos_token: "</s>", pad_token: "<pad>", unk_token: "<unk>", extra_ids: 0, model_max_length: 512
  }))
  return pieces.map(([p]) => p)
}
