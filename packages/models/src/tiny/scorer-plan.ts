/**
 * Tensor plans of tiny random scorer models — GPT-NeoX reward models and
 * sequence classifiers, T5 v1.0 / v1.1 encoder-decoders, Llama sequence
 * classifiers — from their Hugging Face `config.json`, with the tensor names
 * and shapes our loaders expect. Every weight ~ N(0, 0.3²); norm weights
 * ~ N(1, 0.03²); T5's shared embedding ~ N(0, 0.9²) (T5 does not scale it).
 *
 * @example
 * ```ts
 * import { tinyScorerPlan } from "@refine-af/models"
 * tinyScorerPlan({ model_type: "t5", d_model: 32, d_kv: 8, d_ff: 48, num_layers: 2, num_heads: 4, vocab_size: 64, feed_forward_proj: "relu" })
 * ```
 */
import { SUPPORTED_ARCHITECTURES } from "../config/llama-config.ts"
import { parseGptNeoXConfig, gptNeoXTrunkWeights } from "../gpt-neox/config.ts"
import { parseT5Config, t5Weights } from "../t5/config.ts"
import type { PlannedTensor } from "./tensor-plan.ts"
import { tinyTensorPlan } from "./tensor-plan.ts"

const isNorm = (name: string) => /(layer_?norm|norm)\.weight$/.test(name)
const planOf = (shapes: ReadonlyMap<string, ReadonlyArray<number>>, embedding?: { name: string; std: number }): Array<PlannedTensor> =>
  [...shapes].map(([name, shape]) => (isNorm(name) ? { name, shape, std: 0.03, mean: 1 } : { name, shape, std: name === embedding?.name ? embedding.std : 0.3 }))

/** The planned tensors of a tiny scorer with this config (throws naming what the config lacks). */
export const tinyScorerPlan = (config: Readonly<Record<string, unknown>>): Array<PlannedTensor> => {
  const architectures = Array.isArray(config["architectures"]) ? (config["architectures"] as Array<unknown>) : []
  if (config["model_type"] === "t5") return planOf(t5Weights(parseT5Config({ ...config }, "tiny")), { name: "shared.weight", std: 0.9 })
  if (config["model_type"] === "gpt_neox" || config["model_type"] === "gpt_neox_reward_model") {
    const c = parseGptNeoXConfig({ ...config }, "tiny")
    const shapes = new Map(gptNeoXTrunkWeights(c))
    if (architectures.includes("GPTNeoXRewardModel")) {
      shapes.set("out_proj.weight", [1, c.hiddenSize])
      shapes.set("out_proj.bias", [1])
    } else shapes.set("score.weight", [Number(config["num_labels"] ?? 2), c.hiddenSize])
    return planOf(shapes)
  }
  // LlamaForSequenceClassification and its siblings (Mistral, Qwen2, Qwen3): the decoder trunk and `score.weight`.
  if (SUPPORTED_ARCHITECTURES.includes(config["model_type"] as never) && architectures.some((a) => typeof a === "string" && a.endsWith("ForSequenceClassification"))) {
    const trunk = tinyTensorPlan({ ...config, tie_word_embeddings: true })
    const hidden = Number(config["hidden_size"])
    const shapes = new Map<string, ReadonlyArray<number>>(trunk.map((t) => [t.name, t.shape]))
    shapes.set("score.weight", [Number(config["num_labels"] ?? 1), hidden])
    return planOf(shapes)
  }
  throw new Error(`no tiny scorer plan for model_type ${JSON.stringify(config["model_type"])} / architectures ${JSON.stringify(architectures)}: use a GPT-NeoX reward model or classifier, a T5, or a Llama-family (${SUPPORTED_ARCHITECTURES.join(", ")}) ForSequenceClassification config`)
}
