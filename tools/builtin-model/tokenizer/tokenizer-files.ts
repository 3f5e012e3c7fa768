/**
 * Writes a trained byte-level BPE as Hugging Face `tokenizer.json` and
 * `tokenizer_config.json`, loadable by any HF tokenizer library (and by
 * model-llama's `loadTokenizer`). One special token, `<|endoftext|>`, ends
 * documents and pads batches.
 */
import type { Bpe } from "./train-bpe.ts"

/** The special token and its text. */
export const END_OF_TEXT = "<|endoftext|>"

const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }

/** The two files' JSON, and the id of `<|endoftext|>` (the last id). */
export const tokenizerFiles = (bpe: Bpe, maxLength: number) => {
  const eos = bpe.vocab.length
  const vocab: Record<string, number> = {}
  bpe.vocab.forEach((symbol, id) => (vocab[symbol] = id))
  vocab[END_OF_TEXT] = eos
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: eos, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [...bpe.merges]
    }
  }
  const config = {
    tokenizer_class: "GPT2Tokenizer",
    bos_token: null,
    eos_token: END_OF_TEXT,
    pad_token: END_OF_TEXT,
    unk_token: null,
    add_bos_token: false,
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength
  }
  return { tokenizer, config, eos, vocabSize: eos + 1 }
}
