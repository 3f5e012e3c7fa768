/** Tokenizers of local model folders. */
export * from "./tokenizer.ts"
