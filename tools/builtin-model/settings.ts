/**
 * Everything that decides the built-in model's bytes: seeds, corpus,
 * tokenizer size, architecture and optimisation. Changing any value means
 * re-running the tool and committing the new folder and loss curve.
 */
import type { ModelShape } from "./train/model-config.ts"
import type { TrainSettings } from "./train/trainer.ts"

/** Seed of the corpus stream and of the weight initialisation. */
export const SEED = 20260512

/** Documents the BPE vocabulary is learned from (the first ones of the stream). */
export const TOKENIZER_DOCUMENTS = 3000
/** Byte-level BPE symbols (256 bytes + merges); `<|endoftext|>` takes one more id. */
export const TOKENIZER_SYMBOLS = 2047

export const MODEL_SHAPE: ModelShape = { hidden: 128, layers: 4, heads: 4, kvHeads: 2, intermediate: 352, maxPositions: 1024 }

export const TRAIN: TrainSettings = {
  rows: 8,
  length: 512,
  peakLr: 3e-3,
  warmupSteps: 30,
  totalSteps: 400,
  finalLrFraction: 0.1,
  weightDecay: 0.05,
  clipGradNorm: 1
}

/** Where the tool writes the model (inside model-llama, which serves it as `builtin: speaker`). */
export const MODEL_FOLDER = new URL("../../plugins/model-llama/models/speaker/", import.meta.url)
/** Where the loss curve goes (committed with the tool). */
export const LOSS_CURVE = new URL("./loss-curve.json", import.meta.url)
