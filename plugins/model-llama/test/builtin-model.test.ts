/**
 * Built-in tiny models (`llama/hf` option `builtin`): written once into the
 * cache folder in Hugging Face layout, deterministic per (preset, seed),
 * reused afterwards, never trusted half-written; bad option combinations are
 * typed errors with a fix.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { builtinModelFolder, ensureBuiltinModel } from "../src/index.ts"
import { loadModelFolder, TINY_PRESETS, writeTinyModel } from "@refine-af/models"
import { modelFolder } from "../src/builtin/model-source.ts"

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
const flip = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(effect))
const made: Array<string> = []
const temp = () => {
  const dir = mkdtempSync(nodePath.join(tmpdir(), "refine-af-builtin-"))
  made.push(dir)
  return dir
}
// The qwen2 preset is ~50 MB on disk.
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** Reads a safetensors file by hand (8-byte little-endian header length, JSON header, data), independent of the plugin's reader. */
const readTensorsByHand = (file: string) => {
  const bytes = readFileSync(file)
  const headerLength = Number(bytes.readBigUInt64LE(0))
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, { dtype: string; shape: Array<number>; data_offsets: [number, number] }>
  const data = bytes.subarray(8 + headerLength)
  const values = (name: string) => {
    const [start, end] = header[name]!.data_offsets
    const copy = new Uint8Array(data.subarray(start, end))
    return new Float32Array(copy.buffer)
  }
  return { header, values }
}

const moments = (values: Float32Array) => {
  let sum = 0
  let squares = 0
  for (const value of values) {
    sum += value
    squares += value * value
  }
  const mean = sum / values.length
  return { mean, std: Math.sqrt(squares / values.length - mean * mean) }
}

describe("built-in tiny models", () => {
  it("writes a loadable Hugging Face folder with the preset's shapes and init scales, once", async () => {
    const cacheDir = temp()
    const folder = await run(ensureBuiltinModel({ preset: "qwen2", seed: 0, cacheDir }))
    expect(folder).toBe(builtinModelFolder({ preset: "qwen2", seed: 0, cacheDir }))
    const model = await run(loadModelFolder(folder))
    expect(model.config.architecture).toBe("qwen2")
    expect(model.config.vocabSize).toBe(TINY_PRESETS.qwen2.vocab_size)

    const { header, values } = readTensorsByHand(nodePath.join(folder, "model.safetensors"))
    const { vocab_size: vocab, hidden_size: hidden, num_hidden_layers: layers } = TINY_PRESETS.qwen2
    expect(header["model.embed_tokens.weight"]).toMatchObject({ dtype: "F32", shape: [vocab, hidden] })
    expect(header["lm_head.weight"]).toBeUndefined() // tied embeddings
    expect(header[`model.layers.${layers - 1}.self_attn.q_proj.bias`]).toBeDefined() // qwen2 q/k/v bias
    const embedding = moments(values("model.embed_tokens.weight"))
    expect(Math.abs(embedding.mean)).toBeLessThan(0.01)
    expect(embedding.std).toBeGreaterThan(0.49)
    expect(embedding.std).toBeLessThan(0.51)
    const norm = moments(values("model.norm.weight"))
    expect(norm.mean).toBeGreaterThan(0.95) // norm weights scattered around 1
    expect(norm.mean).toBeLessThan(1.05)
    // The real Qwen3 tokenizer, not a stub.
    const tokenizer = JSON.parse(readFileSync(nodePath.join(folder, "tokenizer.json"), "utf8")) as { model: { vocab: Record<string, number> } }
    expect(Object.keys(tokenizer.model.vocab).length).toBeGreaterThan(150_000)

    // A second call reuses the folder instead of rewriting it.
    const written = statSync(nodePath.join(folder, "model.safetensors")).mtimeMs
    expect(await run(ensureBuiltinModel({ preset: "qwen2", seed: 0, cacheDir }))).toBe(folder)
    expect(statSync(nodePath.join(folder, "model.safetensors")).mtimeMs).toBe(written)
  })

  it("is deterministic per seed: same seed, same bytes; another seed, other weights", async () => {
    const [a, b, c] = [temp(), temp(), temp()]
    const options = { config: "llama", overrides: { vocab_size: 512 } } as const
    await run(writeTinyModel({ ...options, out: a, seed: 7 }))
    await run(writeTinyModel({ ...options, out: b, seed: 7 }))
    await run(writeTinyModel({ ...options, out: c, seed: 8 }))
    const weights = (folder: string) => readFileSync(nodePath.join(folder, "model.safetensors"))
    expect(weights(a).equals(weights(b))).toBe(true)
    expect(weights(a).equals(weights(c))).toBe(false)
    expect(weights(a).length).toBe(weights(c).length)
  })

  it("does not trust a half-written staging folder left by a killed run", async () => {
    const cacheDir = temp()
    const folder = builtinModelFolder({ preset: "mistral", seed: 1, cacheDir })
    mkdirSync(`${folder}.partial-12345-dead`, { recursive: true })
    expect(await run(ensureBuiltinModel({ preset: "mistral", seed: 1, cacheDir }))).toBe(folder)
    expect((await run(loadModelFolder(folder))).config.architecture).toBe("mistral")
  })

  it("names the problem and the fix for bad options", async () => {
    const neither = await flip(modelFolder({}))
    expect(neither._tag).toBe("ModelSourceError")
    expect(neither.fix).toContain("builtin")
    const both = await flip(modelFolder({ path: "/tmp/x", builtin: { preset: "qwen2" } }))
    expect(both.message).toContain("both")
    const unknown = await flip(writeTinyModel({ out: temp(), config: "gpt2" as "qwen2" }))
    expect(unknown._tag).toBe("TinyModelConfigError")
    expect(unknown.message).toContain("qwen2")
    expect(await run(modelFolder({ path: "/models/x" }))).toBe("/models/x")
  })
})
