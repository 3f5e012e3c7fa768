import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { parseLlamaConfig } from "@refine-af/models"
import { defaultMaxBatch } from "../src/index.ts"

const config = (fields: Record<string, unknown>) => Effect.runSync(parseLlamaConfig("config.json", { model_type: "llama", vocab_size: 32000, ...fields }))
const GiB = 1024 ** 3
// KV cache per token: layers × 2 × kv heads × head dim × 4 bytes.
const llama7b = config({ hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32 }) // 1 MiB
const tiny11b = config({ hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22, num_attention_heads: 32, num_key_value_heads: 4 }) // 44 KiB

describe("defaultMaxBatch (max_batch when a recipe does not set it)", () => {
  it("is 16 when 16 rows of KV cache at the full context fit in an eighth of memory, else 8", () => {
    // 1.1B shape, 2048 tokens: 16 × 2048 × 44 KiB = 1.375 GiB.
    expect(defaultMaxBatch(tiny11b, 2048, 24 * GiB)).toBe(16)
    expect(defaultMaxBatch(tiny11b, 2048, 11 * GiB)).toBe(16)
    expect(defaultMaxBatch(tiny11b, 2048, 10.9 * GiB)).toBe(8)
    // LLaMA-2-7B shape, 4096 tokens: 64 GiB for 16 rows; 8 on any machine below 512 GiB.
    expect(defaultMaxBatch(llama7b, 4096, 24 * GiB)).toBe(8)
    expect(defaultMaxBatch(llama7b, 4096, 128 * GiB)).toBe(8)
    expect(defaultMaxBatch(llama7b, 512, 128 * GiB)).toBe(16)
  })
})
