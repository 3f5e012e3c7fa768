/**
 * (b) The benchmark model: a 4-layer Llama-style decoder (RMSNorm, rotary,
 * causal multi-head attention, SwiGLU) with an LM head and cross-entropy, and
 * one training step = forward + backward + AdamW as a single tensor program.
 * tools/bench-compute/train_step_torch.py builds the same model in PyTorch.
 */
import * as T from "@refine-af/tensor"

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

/** The training-step program (tensor's `trainStep` + `adamw`): tokens/targets/positions, weights, AdamW state. */
export const trainStepProgram = (): T.TrainStepProgram => {
  const c = trainConfig
  const g = new T.Graph()
  const shape = [c.batch, c.seq]
  const tokens = g.input("input_ids", "int64", shape)
  const targets = g.input("targets", "int64", shape)
  const positions = g.input("positions", "int64", shape)
  const layer: T.DecoderLayerConfig = { hidden: c.hidden, numHeads: c.heads, numKvHeads: c.heads, headDim: c.headDim, intermediate: c.intermediate, rmsNormEps: c.rmsNormEps }
  const embed = g.parameter("embed", "float32", [c.vocab, c.hidden])
  const blocks = Array.from({ length: c.layers }, (_, i) => T.decoderLayerParams(g, `layers.${i}`, layer, { dtype: "float32" }))
  const norm = g.parameter("norm", "float32", [c.hidden])
  const head = T.linearParams(g, "lm_head", c.hidden, c.vocab, { dtype: "float32" })
  const rope = T.rotaryTables(positions, c.headDim, c.ropeTheta, "float32")
  let h = T.embedding(embed, tokens)
  for (const block of blocks) h = T.decoderLayer(h, block, layer, rope)
  const loss = T.crossEntropy(T.applyLinear(T.rmsNorm(h, norm, c.rmsNormEps), head), targets)
  return T.trainStep(loss, { optimizer: T.adamw({ beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay }) })
}
