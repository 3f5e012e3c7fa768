/**
 * (b) The benchmark model: the shipped Llama trunk (`llamaTrunk` of
 * @refine-af/models — the program every recipe runs) at 4 layers, d_model 512,
 * with an untied LM head and cross-entropy, every weight trainable; one
 * training step = forward + backward + AdamW as a single tensor program.
 * tools/bench-compute/train_step_torch.py builds the same model in PyTorch.
 */
import { llamaTrunk, lmLogits, maskedCrossEntropy, parseLlamaConfig, type LlamaConfig } from "@refine-af/models"
import * as T from "@refine-af/tensor"
import { Effect } from "effect"

/** Model and batch geometry (identical in the PyTorch script). */
export const trainConfig = {
  layers: 4,
  hidden: 512,
  heads: 8,
  headDim: 64,
  intermediate: 1536,
  vocab: 4096,
  batch: 8,
  seq: 128,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  lr: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01
} as const

/** Forward FLOPs of one batch (matmuls only: linear layers, attention scores/values, LM head). */
export const forwardFlops = (): number => {
  const c = trainConfig
  const tokens = c.batch * c.seq
  const perLayerWeights = 4 * c.hidden * c.hidden + 3 * c.hidden * c.intermediate
  const linear = 2 * tokens * (c.layers * perLayerWeights + c.hidden * c.vocab)
  const attention = c.layers * 2 * (2 * c.batch * c.heads * c.seq * c.seq * c.headDim)
  return linear + attention
}

/** The trunk's config.json for the benchmark geometry (llama, no GQA, untied head). */
export const benchLlamaConfig = (): LlamaConfig => {
  const c = trainConfig
  return Effect.runSync(parseLlamaConfig("bench-compute", {
    model_type: "llama", vocab_size: c.vocab, hidden_size: c.hidden, intermediate_size: c.intermediate, num_hidden_layers: c.layers,
    num_attention_heads: c.heads, num_key_value_heads: c.heads, head_dim: c.headDim, rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta,
    max_position_embeddings: 2048, tie_word_embeddings: false
  }))
}

/** The training-step program (tensor's `trainStep` + `adamw` on the shipped trunk): step feeds, targets, loss mask, weights, AdamW state. */
export const trainStepProgram = (): T.TrainStepProgram => {
  const c = trainConfig
  const trunk = llamaTrunk(benchLlamaConfig(), { batch: c.batch, length: c.seq, cache: 0 }, { trainableBase: true })
  const loss = maskedCrossEntropy(trunk, lmLogits(trunk, "all"))
  return T.trainStep(loss, { optimizer: T.adamw({ beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay }) })
}
