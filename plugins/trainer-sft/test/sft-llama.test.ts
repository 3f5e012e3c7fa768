/**
 * Acceptance on a real decoder: `sft/lora` on the built-in tiny Qwen2 model
 * (random weights, real tokenizer), then the exported PEFT adapter loaded by
 * `llama/hf` (`lora:`) reproduces the trained answers greedily.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { LanguageModel } from "@refine-af/core"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { llamaResource } from "@refine-af/model-llama"
import { memoryInput, memoryStageContext, runStage } from "@refine-af/testing"
import type { BackendService } from "@refine-af/tensor"
import { PolicyModel } from "@refine-af/training"
import { Context, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { renderPrompt, sftStage } from "../src/index.ts"

const events = { info: () => Effect.void, warn: () => Effect.void, progress: () => Effect.void, metric: () => Effect.void, emit: () => Effect.void } as never
const template = { prompt: "Q: {instruction}\nA:" }
const records = [
  { instruction: "Capital of France?", input: "", output: " Paris is the capital." },
  { instruction: "Two plus two?", input: "", output: " It is four." }
]

describe("sft/lora on the built-in tiny Qwen2 model", () => {
  it("loss falls and the adapter, loaded by llama/hf, reproduces the trained answers greedily", async () => {
    const cacheDir = mkdtempSync(nodePath.join(tmpdir(), "sft-llama-models-"))
    const options = { builtin: { preset: "qwen2" as const, seed: 0, cacheDir }, max_context: 64 }
    const result = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
      const uses = { backend } as never
      const services = yield* llamaResource.make({ name: "policy", options, seed: 0, uses, events })
      const { ctx, output } = memoryStageContext({
        name: "sft",
        options: { template, epochs: 20, batch_size: 2, lr: 0.02, schedule: "constant", lora: { rank: 8, alpha: 16, targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] } } as never,
        uses: { policy: Context.get(services, PolicyModel) },
        inputs: { data: memoryInput("instances", records) }
      })
      yield* Effect.promise(() => runStage(sftStage, ctx))
      const tuned = yield* llamaResource.make({ name: "tuned", options: { ...options, lora: nodePath.join(ctx.dir, "adapter") }, seed: 0, uses, events })
      const lm = Context.get(tuned, LanguageModel)
      const replies = yield* lm.generate(records.map((r) => ({ prompt: renderPrompt(template, r), params: { maxNewTokens: 12, temperature: 0 } })))
      const base = yield* Context.get(services, LanguageModel).generate(records.map((r) => ({ prompt: renderPrompt(template, r), params: { maxNewTokens: 12, temperature: 0 } })))
      return { losses: output.committed.map((r) => r.loss as number), replies, base }
    })))
    expect(result.losses.length).toBe(20)
    expect(result.losses[19]!).toBeLessThan(0.05 * result.losses[0]!)
    expect(result.base.map((g) => g.text)).not.toEqual(records.map((r) => r.output))
    expect(result.replies.map((g) => g.text)).toEqual(records.map((r) => r.output))
    expect(result.replies.map((g) => g.finishReason)).toEqual(["eos", "eos"])
  }, 300_000)

  it("gradient_checkpointing: true trains the same steps (same losses) as without, on programs that recompute each layer", async () => {
    const cacheDir = mkdtempSync(nodePath.join(tmpdir(), "sft-llama-models-"))
    const options = { builtin: { preset: "qwen2" as const, seed: 0, cacheDir }, max_context: 64 }
    // Attention softmaxes of each compiled training program (it outputs a loss): one per layer, two when recomputed.
    const softmaxes = new Set<number>()
    const losses = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const onnx = yield* makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
      const backend: BackendService = {
        ...onnx,
        compile: (program, compileOptions) => {
          if (program.outputs.some((o) => o.name === "loss")) softmaxes.add(program.nodes.filter((n) => n.op === "Softmax").length)
          return onnx.compile(program, compileOptions)
        }
      }
      const services = yield* llamaResource.make({ name: "policy", options, seed: 0, uses: { backend } as never, events })
      const train = (gradient_checkpointing: boolean) =>
        Effect.gen(function* () {
          const { ctx, output } = memoryStageContext({
            name: `sft-${gradient_checkpointing}`,
            options: { template, epochs: 4, batch_size: 2, lr: 0.02, schedule: "constant", gradient_checkpointing, lora: { rank: 4, alpha: 8, dropout: 0.1, targets: ["q_proj", "v_proj", "down_proj"] } } as never,
            uses: { policy: Context.get(services, PolicyModel) },
            inputs: { data: memoryInput("instances", records) }
          })
          yield* Effect.promise(() => runStage(sftStage, ctx))
          return output.committed.map((r) => r.loss as number)
        })
      return { plain: yield* train(false), checkpointed: yield* train(true) }
    })))
    const [layers, recomputed] = [...softmaxes].sort((a, b) => a - b)
    expect(softmaxes.size).toBe(2)
    expect(recomputed).toBe(2 * layers!)
    expect(losses.plain.length).toBe(4)
    losses.checkpointed.forEach((loss, i) => expect(Math.abs(loss - losses.plain[i]!)).toBeLessThan(1e-5 * losses.plain[i]!))
  }, 300_000)
})
