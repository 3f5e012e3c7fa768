/**
 * `@refine-af/testing`: what plugin authors need to test their components
 * without the runner — an in-memory stage context, a scripted language model,
 * and the resume-contract check every record-producing stage should pass.
 */
export * from "./memory-stage.ts"
export * from "./memory-writer.ts"
export * from "./run-stage.ts"
export * from "./make-resource.ts"
export * from "./trainer-run.ts"
export * from "./scripted-model.ts"
export * from "./resume-contract.ts"
export * from "./policy/table-policy.ts"
export * from "./policy/step-spy.ts"
export { BOS as tableBos, EOS as tableEos, defaultAlphabet as tableAlphabet } from "./policy/char-tokenizer.ts"
export * from "./mock-hub.ts"
export * from "./torch-bin-writer.ts"
export * from "./bpe-tokenizer.ts"
export * from "./unigram-tokenizer.ts"
export * from "./screenshot/chromium.ts"
export { decodePng, pixelStats, type DecodedPng, type PixelStats } from "./screenshot/png.ts"
