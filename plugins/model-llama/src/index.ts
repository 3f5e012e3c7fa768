/**
 * `@refine-af/model-llama`: Llama-family decoders (llama, mistral, qwen2,
 * qwen3, olmo2, olmo3, smollm3, granite, gemma2, gemma3_text, phi3) from Hugging Face folders on the compute core — batched KV-cache generation,
 * scoring, sampling, PEFT LoRA adapters. Hugging Face I/O (safetensors,
 * configs, tokenizers, content ids, tiny models) is `@refine-af/models`. The default export is the plugin manifest (components `hf`,
 * `adapted` and the stage `merge`, used in recipes as `llama/hf`, `llama/adapted`, `llama/merge`).
 */
import { definePlugin } from "@refine-af/core"
import { adaptedResource } from "./adapted-resource.ts"
import { mergeStage } from "./merge-stage.ts"
import { llamaResource } from "./resource.ts"

export * from "./sampling/index.ts"
export * from "./peft/index.ts"
export * from "./model/index.ts"
export * from "./generation/index.ts"
export * from "./service/index.ts"
export * from "./resource.ts"
export * from "./adapted-resource.ts"
export * from "./checkpoint.ts"
export * from "./merge-stage.ts"
export * from "./builtin/index.ts"
export * from "./quant/index.ts"

/** The plugin manifest. */
export default definePlugin({
  name: "llama",
  version: "0.2.2",
  description: "Llama-family decoders (llama, mistral, qwen2, qwen3, olmo2, olmo3, smollm3, granite, gemma2, gemma3_text, phi3) on the compute core",
  components: { hf: llamaResource, adapted: adaptedResource, merge: mergeStage }
})
export * from "./training/index.ts"
export * from "./policy/index.ts"
