/**
 * `llama/hf`'s `weight_mode` reaches the compiler: with the default (shared)
 * the frozen weights are bound backend tensors (`weights`), with `baked` they
 * are `constants` inside each program, with `decode` only the decode steps
 * bake them, into one session group — seen by a backend that records what it
 * is asked to compile — and all generate the same greedy text.
 */
import { LanguageModel } from "@refine-af/core"
import type { BackendService, CompileOptions } from "@refine-af/tensor"
import { Context, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { llamaResource } from "../src/index.ts"
import { cpuBackend, runScoped } from "./support/runtime.ts"

const events = { progress: () => Effect.void, metric: () => Effect.void, warn: () => Effect.void, emit: () => Effect.void }

const generateWith = (weightMode: "shared" | "baked" | "decode" | undefined, bakedDecodeRows?: number | "all") =>
  Effect.gen(function* () {
    const backend = yield* cpuBackend
    const asked: Array<CompileOptions> = []
    const recording: BackendService = { ...backend, compile: (program, options) => (asked.push(options ?? {}), backend.compile(program, options)) }
    const options = { builtin: "speaker" as const, max_context: 64, ...(weightMode === undefined ? {} : { weight_mode: weightMode }), ...(bakedDecodeRows === undefined ? {} : { baked_decode_rows: bakedDecodeRows }) }
    const services = yield* llamaResource.make({ name: "policy", options, seed: 0, uses: { backend: recording }, events })
    const lm = Context.get(services as Context.Context<LanguageModel>, LanguageModel)
    const [generation] = yield* lm.generate([{ prompt: "Instruction: Sort the numbers 3, 1, 2.\nOutput:", params: { maxNewTokens: 6, temperature: 0 } }])
    const model = asked.filter((o) => Object.keys(o.constants ?? {}).length > 0 || Object.keys(o.weights ?? {}).length > 0)
    const baked = model.filter((o) => Object.keys(o.constants ?? {}).length > 0)
    return { text: generation!.text, baked: baked.length, bound: model.filter((o) => Object.keys(o.weights ?? {}).length > 0).length, groups: new Set(baked.map((o) => o.group)) }
  })

describe("llama/hf weight_mode", () => {
  it("binds shared weights by default, bakes them with weight_mode: baked, same greedy text", async () => {
    const shared = await runScoped(generateWith(undefined))
    const baked = await runScoped(generateWith("baked"))
    expect(shared.bound).toBeGreaterThan(0)
    expect(shared.baked).toBe(0)
    expect(baked.baked).toBeGreaterThan(0)
    expect(baked.bound).toBe(0)
    expect(baked.text).toBe(shared.text)
  }, 120_000)

  it("weight_mode: decode bakes the weights into the decode steps only, as one session group, and binds them elsewhere; same greedy text", async () => {
    const shared = await runScoped(generateWith(undefined))
    const decode = await runScoped(generateWith("decode"))
    // The prefill binds; the decode step bakes, in a group.
    expect(decode.bound).toBeGreaterThan(0)
    expect(decode.baked).toBeGreaterThan(0)
    expect([...decode.groups].every((group) => typeof group === "string" && group.includes("decode"))).toBe(true)
    expect(decode.text).toBe(shared.text)
  }, 120_000)

  it("baked_decode_rows: 0 bakes no decode step, all bakes every one (a batch-1 step included); same greedy text", async () => {
    const none = await runScoped(generateWith("decode", 0))
    const all = await runScoped(generateWith("decode", "all"))
    expect(none.baked).toBe(0)
    expect(none.bound).toBeGreaterThan(0)
    expect(all.baked).toBeGreaterThan(0)
    expect(all.text).toBe(none.text)
  }, 120_000)
})
