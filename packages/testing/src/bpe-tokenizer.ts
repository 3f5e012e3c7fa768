/**
 * Writes a small byte-level BPE `tokenizer.json` + `tokenizer_config.json` in
 * GPT-NeoX's layout (ByteLevel pre-tokenizer and decoder, BPE merges, the
 * OpenAssistant special tokens as added tokens) whose ids fit a tiny model's
 * 96-token vocabulary. Characters outside the vocabulary map to `<|endoftext|>`.
 *
 * @example
 * ```ts
 * import { writeBpeTokenizer } from "@refine-af/testing"
 * const vocab = writeBpeTokenizer("/tmp/tiny-rm") // tokenizer.json + tokenizer_config.json
 * ```
 */
import { writeFileSync } from "node:fs"
import * as nodePath from "node:path"

/** GPT-NeoX / OpenAssistant special tokens, ids 0..3. */
export const specialTokens = ["<|endoftext|>", "<|padding|>", "<|prompter|>", "<|assistant|>"] as const

/**
 * A chat template that writes OpenAssistant's format, BOS first (as Llama 3's template does):
 * a reward model reading a conversation through it reads the default OpenAssistant text.
 */
export const OASST_CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}<|{{ 'prompter' if m.role == 'user' else 'assistant' }}|>{{ m.content }}<|endoftext|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"

/** Writes the two tokenizer files into `folder` (with `chat_template` in the config when given); returns the vocabulary. */
export const writeBpeTokenizer = (folder: string, options: { readonly chatTemplate?: string } = {}): Record<string, number> => {
  const vocab: Record<string, number> = {}
  const add = (token: string) => (vocab[token] ??= Object.keys(vocab).length)
  specialTokens.forEach(add)
  for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,?!") add(ch)
  add("Ġ") // space in byte-level form
  add("Ċ") // newline
  const merges = [["Ġ", "t"], ["h", "e"], ["Ġt", "he"], ["i", "n"], ["Ġ", "a"]] as const
  for (const [a, b] of merges) add(a + b)
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: "<|endoftext|>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) }
  }
  writeFileSync(nodePath.join(folder, "tokenizer.json"), JSON.stringify(tokenizer))
  writeFileSync(nodePath.join(folder, "tokenizer_config.json"), JSON.stringify({
    tokenizer_class: "GPTNeoXTokenizer", bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>", pad_token: "<|padding|>", add_bos_token: false, add_eos_token: false, model_max_length: 64,
    ...(options.chatTemplate === undefined ? {} : { chat_template: options.chatTemplate })
  }))
  return vocab
}
