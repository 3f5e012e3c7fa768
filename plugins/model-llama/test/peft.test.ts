import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { adapterScale, defaultLoraTargetsOf, initLoraAdapter, mergeLoraPair, readAdapter, seededUniform, writeAdapter, type LoraAdapter, type LoraConfig } from "../src/index.ts"
import { openSafetensors, parseLlamaConfig, writeSafetensors } from "@refine-af/models"

const model = Effect.runSync(parseLlamaConfig("config.json", {
  model_type: "llama", vocab_size: 50, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2
}))
const loraConfig: LoraConfig = { r: 4, alpha: 8, dropout: 0.05, targetModules: ["q_proj", "v_proj", "down_proj"], useRsLora: false, baseModelNameOrPath: "tiny-llama" }

/** An adapter with non-zero B (a fresh one has B = 0, which would hide transposition bugs). */
const trainedAdapter = (): LoraAdapter => {
  const uniform = seededUniform(5)
  const adapter = initLoraAdapter(loraConfig, model, uniform)
  for (const pair of adapter.pairs.values()) for (let i = 0; i < pair.b.length; i++) pair.b[i] = uniform() - 0.5
  return adapter
}
const folder = () => mkdtempSync(nodePath.join(tmpdir(), "adapter-"))

describe("PEFT adapters", () => {
  it("initialises like PEFT: A bounded by 1/sqrt(in), B zero, every layer × target", () => {
    const adapter = initLoraAdapter(loraConfig, model, seededUniform(1))
    expect([...adapter.pairs.keys()]).toEqual([
      "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.mlp.down_proj",
      "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj", "model.layers.1.mlp.down_proj"
    ])
    const v = adapter.pairs.get("model.layers.0.self_attn.v_proj")!
    expect([v.outFeatures, v.inFeatures]).toEqual([8, 16])
    expect(v.a.every((x) => Math.abs(x) <= 0.25)).toBe(true)
    expect(v.b.every((x) => x === 0)).toBe(true)
    expect(adapterScale(adapter)).toBe(2)
  })

  it("write → read round-trips tensors bit for bit and the config exactly", async () => {
    const adapter = trainedAdapter()
    const dir = folder()
    await Effect.runPromise(writeAdapter(dir, adapter))
    const back = await Effect.runPromise(readAdapter(dir, model))
    expect(back.config).toEqual(adapter.config)
    expect([...back.pairs.keys()].sort()).toEqual([...adapter.pairs.keys()].sort())
    for (const [module, pair] of adapter.pairs) {
      const read = back.pairs.get(module)!
      expect(Buffer.from(read.a.buffer, read.a.byteOffset, read.a.byteLength).equals(Buffer.from(pair.a.buffer))).toBe(true)
      expect(Buffer.from(read.b.buffer, read.b.byteOffset, read.b.byteLength).equals(Buffer.from(pair.b.buffer))).toBe(true)
    }
  })

  it("follows PEFT's file format: config keys and tensor names/shapes", async () => {
    const dir = folder()
    await Effect.runPromise(writeAdapter(dir, trainedAdapter()))
    const config = JSON.parse(readFileSync(nodePath.join(dir, "adapter_config.json"), "utf8"))
    expect(config).toMatchObject({ peft_type: "LORA", task_type: "CAUSAL_LM", r: 4, lora_alpha: 8, lora_dropout: 0.05, bias: "none", target_modules: ["q_proj", "v_proj", "down_proj"], base_model_name_or_path: "tiny-llama", use_rslora: false, use_dora: false, fan_in_fan_out: false })
    const entries = await Effect.runPromise(Effect.scoped(Effect.map(openSafetensors(nodePath.join(dir, "adapter_model.safetensors")), (f) => [...f.header.tensors.values()])))
    const byName = new Map(entries.map((e) => [e.name, e]))
    expect(byName.get("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight")?.shape).toEqual([4, 16])
    expect(byName.get("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight")?.shape).toEqual([16, 4])
    expect(byName.get("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight")?.shape).toEqual([4, 24])
    expect(byName.get("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight")?.shape).toEqual([16, 4])
    expect(entries.every((e) => e.dtype === "F32")).toBe(true)
    expect(entries.length).toBe(12)
  })

  it("merging gives a weight whose product equals base + scale·(x·Aᵀ)·Bᵀ", () => {
    const adapter = trainedAdapter()
    const pair = adapter.pairs.get("model.layers.0.mlp.down_proj")!
    const uniform = seededUniform(11)
    const weight = Float32Array.from({ length: pair.outFeatures * pair.inFeatures }, () => uniform() - 0.5)
    const x = Float64Array.from({ length: pair.inFeatures }, () => uniform() - 0.5)
    const merged = mergeLoraPair(weight, pair, 2)
    const r = 4
    // Reference path: never forms B·A; goes through the rank-r bottleneck as the LoRA forward does.
    const down = Array.from({ length: r }, (_, k) => x.reduce((s, xi, i) => s + xi * pair.a[k * pair.inFeatures + i]!, 0))
    for (let o = 0; o < pair.outFeatures; o++) {
      const base = x.reduce((s, xi, i) => s + xi * weight[o * pair.inFeatures + i]!, 0)
      const lora = down.reduce((s, d, k) => s + d * pair.b[o * r + k]!, 0)
      const viaMerged = x.reduce((s, xi, i) => s + xi * merged[o * pair.inFeatures + i]!, 0)
      expect(Math.abs(viaMerged - (base + 2 * lora))).toBeLessThan(1e-5)
    }
    expect(weight.some((w, i) => w !== merged[i])).toBe(true)
  })

  it("rejects non-LoRA configs, foreign tensors and adapters for another model", async () => {
    const dir = folder()
    await Effect.runPromise(writeAdapter(dir, trainedAdapter()))
    const configPath = nodePath.join(dir, "adapter_config.json")
    const good = readFileSync(configPath, "utf8")
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(good), peft_type: "IA3", use_dora: true }))
    const badType = await Effect.runPromise(Effect.flip(readAdapter(dir)))
    expect(badType._tag === "AdapterFormatError" && badType.problems.length).toBe(2)
    writeFileSync(configPath, good)
    const bigger = Effect.runSync(parseLlamaConfig("c", { model_type: "llama", vocab_size: 50, hidden_size: 32, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4 }))
    const mismatch = await Effect.runPromise(Effect.flip(readAdapter(dir, bigger)))
    expect(mismatch._tag).toBe("AdapterFormatError")
    expect(mismatch.message).toContain("another base model")
    await Effect.runPromise(writeSafetensors(nodePath.join(dir, "adapter_model.safetensors"), [{ name: "model.embed_tokens.weight", dtype: "F32", shape: [1], data: new Float32Array(1) }]))
    const foreign = await Effect.runPromise(Effect.flip(readAdapter(dir)))
    expect(foreign.message).toContain("unexpected tensor")
  })

  it("phi3: adapters on its fused qkv_proj and gate_up_proj round-trip in PEFT's names; all-linear means its own four projections; a split-projection adapter does not fit it, nor it a split model", async () => {
    const phi3 = Effect.runSync(parseLlamaConfig("config.json", {
      model_type: "phi3", vocab_size: 50, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2
    }))
    expect(defaultLoraTargetsOf(phi3)).toEqual(["qkv_proj"])
    expect(defaultLoraTargetsOf(model)).toEqual(["q_proj", "v_proj"])
    const uniform = seededUniform(3)
    const adapter = initLoraAdapter({ ...loraConfig, targetModules: ["qkv_proj", "gate_up_proj"] }, phi3, uniform)
    for (const pair of adapter.pairs.values()) for (let i = 0; i < pair.b.length; i++) pair.b[i] = uniform() - 0.5
    // q (4 heads × 4) + k and v (2 heads × 4 each) rows; gate and up (24 each) rows.
    expect([adapter.pairs.get("model.layers.1.self_attn.qkv_proj")!.outFeatures, adapter.pairs.get("model.layers.0.mlp.gate_up_proj")!.outFeatures]).toEqual([32, 48])
    const dir = folder()
    await Effect.runPromise(writeAdapter(dir, adapter))
    const names = await Effect.runPromise(Effect.scoped(Effect.map(openSafetensors(nodePath.join(dir, "adapter_model.safetensors")), (f) => [...f.header.tensors.keys()].sort())))
    expect(names).toContain("base_model.model.model.layers.0.mlp.gate_up_proj.lora_B.weight")
    expect(names).toContain("base_model.model.model.layers.1.self_attn.qkv_proj.lora_A.weight")
    const back = await Effect.runPromise(readAdapter(dir, phi3))
    expect(back.config.targetModules).toEqual(["qkv_proj", "gate_up_proj"])
    expect(back.pairs.get("model.layers.0.mlp.gate_up_proj")!.b).toEqual(adapter.pairs.get("model.layers.0.mlp.gate_up_proj")!.b)
    const configPath = nodePath.join(dir, "adapter_config.json")
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, "utf8")), target_modules: "all-linear" }))
    expect((await Effect.runPromise(readAdapter(dir, phi3))).config.targetModules).toEqual(["qkv_proj", "o_proj", "gate_up_proj", "down_proj"])
    const onLlama = await Effect.runPromise(Effect.flip(readAdapter(dir, model)))
    expect(onLlama.message).toContain("this llama model has no qkv_proj (its projections: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)")
    const llamaDir = folder()
    await Effect.runPromise(writeAdapter(llamaDir, trainedAdapter()))
    const onPhi3 = await Effect.runPromise(Effect.flip(readAdapter(llamaDir, phi3)))
    expect(onPhi3.message).toContain("target_modules [\"q_proj\",\"v_proj\"] are not projections of this architecture (qkv_proj, o_proj, gate_up_proj, down_proj)")
  })
})
