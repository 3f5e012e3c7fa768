import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { describe, expect, it } from "vitest"
import { Effect, Schema } from "effect"
import { batchPlan, holdOut, learningRate, renderPrompt, responseEnd, SftOptions, toSequence } from "../src/index.ts"
import { deterministicPart, facts, qa, runSft } from "./support.ts"

const base = { template: qa, epochs: 12, batch_size: 2, lr: 0.1, warmup_steps: 2, lora: { rank: 4, alpha: 8, targets: ["table"] }, checkpoint_every: 5 }

describe("sft/lora on the table policy", () => {
  it("trains: loss falls, one record per step with lr / grad norm / tokens, held-out loss, PEFT adapter written", async () => {
    const run = await runSft({ ...base, eval_fraction: 0.25, eval_every: 4 })
    expect(run.error).toBe("")
    expect(run.records.length).toBe(12 * 2) // 3 train records → 2 batches per epoch
    const losses = run.records.map((r) => r.loss as number)
    expect(losses.slice(-2).reduce((a, b) => a + b, 0) / 2).toBeLessThan(0.25 * losses[0]!)
    expect(run.records[0]!.lr).toBe(0)
    expect(run.records[1]!.lr).toBeCloseTo(0.05, 12)
    expect(run.records.every((r) => typeof r.grad_norm === "number" && (r.tokens as number) > 0 && (r.tokens_per_second as number) > 0)).toBe(true)
    expect(run.records.filter((r) => r.eval_loss !== undefined).map((r) => r.step)).toEqual([4, 8, 12, 16, 20, 24])
    expect(readdirSync(nodePath.join(run.dir, "adapter")).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"])
    const curves = readFileSync(nodePath.join(run.dir, "curves.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line))
    expect(curves.map((point) => [point.step, point.loss])).toEqual(run.records.map((r) => [r.step, r.loss]))
    expect(curves.filter((point) => point.eval_loss !== undefined).map((point) => point.step)).toEqual([4, 8, 12, 16, 20, 24])
    expect(curves.every((point) => point.tokens_per_second === undefined)).toBe(true)
  })

  it("resumes exactly after a crash at several points: identical adapter bytes and metrics", async () => {
    const straight = await runSft(base)
    for (const crashAfter of [3, 5, 11, 17]) {
      const stateDir = mkdtempSync(nodePath.join(tmpdir(), "sft-state-"))
      const first = await runSft(base, { stateDir, crashAfter })
      expect(first.ok).toBe(false)
      expect(first.records.length).toBeGreaterThanOrEqual(crashAfter)
      const resumed = await runSft(base, { stateDir, resumed: first.records })
      expect(resumed.error).toBe("")
      expect(deterministicPart(resumed.records)).toEqual(deterministicPart(straight.records))
      expect(resumed.adapter!.equals(straight.adapter!)).toBe(true)
      // The report's loss curve covers every step, the crashed attempt's included (timings left out).
      expect(readFileSync(nodePath.join(resumed.dir, "curves.jsonl"), "utf8")).toBe(readFileSync(nodePath.join(straight.dir, "curves.jsonl"), "utf8"))
    }
  })

  it("micro_batch_size changes memory, not training: the same losses and adapter as whole batches (micro-batches weighted by their response tokens)", async () => {
    // Responses of different lengths, so a mean of micro-batch means would weight tokens unequally.
    const records = [...facts, { instruction: "e5", output: "ab" }, { instruction: "f6", output: "the nile runs far" }]
    const whole = await runSft({ ...base, epochs: 3 }, { records })
    const micro = await runSft({ ...base, epochs: 3, micro_batch_size: 1 }, { records })
    expect(whole.error + micro.error).toBe("")
    expect(micro.records.length).toBe(whole.records.length)
    micro.records.forEach((r, i) => {
      expect(r.loss as number).toBeCloseTo(whole.records[i]!.loss as number, 10)
      expect(r.grad_norm as number).toBeCloseTo(whole.records[i]!.grad_norm as number, 10)
    })
  })

  it("bad input: clear errors naming the record or option", async () => {
    expect((await runSft(base, { records: [] })).error).toMatch(/dataset is empty/)
    expect((await runSft(base, { records: [facts[0]!, { instruction: "x", input: "" }] })).error).toMatch(/record 1 of stage "instances" has no "output"/)
    expect((await runSft(base, { records: [facts[0]!, "nope" as never] })).error).toMatch(/record 1 .* is not a JSON object/)
    expect((await runSft(base, { records: [{ instruction: "a".repeat(80), input: "", output: "b" }] })).error).toMatch(/record 0 .*longer than the model's context of 64/)
    expect((await runSft({ ...base, lora: { targets: ["q_proj"] } })).error).toMatch(/option lora\.targets: \["q_proj"\] are not modules/)
    expect((await runSft({ ...base, path: "/nonexistent/data.jsonl" })).error).toMatch(/cannot read \/nonexistent\/data\.jsonl/)
  })

  it("a NaN loss stops with a clear error and keeps the last good checkpoint", async () => {
    const stateDir = mkdtempSync(nodePath.join(tmpdir(), "sft-nan-"))
    const run = await runSft({ ...base, lr: 1e300, warmup_steps: 0, schedule: "constant", clip_grad_norm: 1e300, checkpoint_every: 1 }, { stateDir })
    expect(run.ok).toBe(false)
    expect(run.error).toMatch(/(NaN|Infinity).*the update was not applied \(the last good checkpoint in .* is kept\)/s)
    expect(existsSync(nodePath.join(stateDir, "policy-checkpoint.json"))).toBe(true)
  })
})

describe("sft building blocks", () => {
  it("alpaca prompts (with and without input) and custom templates", () => {
    expect(renderPrompt("alpaca", { instruction: "Add.", input: "2 3", output: "5" })).toBe(
      "Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd.\n\n### Input:\n2 3\n\n### Response:\n"
    )
    expect(renderPrompt("alpaca", { instruction: "Hi.", input: "", output: "x" })).toBe("Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nHi.\n\n### Response:\n")
    expect(renderPrompt({ prompt: "Q {instruction} [{input}] A", no_input: "Q {instruction} A" }, { instruction: "i", input: "", output: "o" })).toBe("Q i A")
  })

  it("learning rate: warmup then cosine / linear decay, as Hugging Face's schedules", () => {
    const o = { lr: 1, warmupSteps: 4, schedule: "cosine" as const }
    expect([0, 2, 4].map((s) => learningRate(o, s, 14))).toEqual([0, 0.5, 1])
    expect(learningRate(o, 9, 14)).toBeCloseTo(0.5, 12)
    expect(learningRate({ ...o, schedule: "linear" }, 9, 14)).toBeCloseTo(0.5, 12)
    expect(learningRate({ ...o, schedule: "constant" }, 13, 14)).toBe(1)
  })

  it("batch plan: every record once per epoch, similar lengths together, deterministic", () => {
    const lengths = Array.from({ length: 40 }, (_, i) => (i * 37) % 23)
    const plan = batchPlan(lengths, 4, 2, 9)
    expect(plan.length).toBe(20)
    expect(plan.slice(0, 10).flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i))
    expect(batchPlan(lengths, 4, 2, 9)).toEqual(plan)
    const spread = plan.map((b) => Math.max(...b.map((i) => lengths[i]!)) - Math.min(...b.map((i) => lengths[i]!)))
    expect(spread.reduce((a, b) => a + b, 0) / spread.length).toBeLessThan(5)
    const split = holdOut(10, 0.2, 3)
    expect(split.evaluation.length).toBe(2)
    expect([...split.train, ...split.evaluation].sort((a, b) => a - b)).toEqual([...Array(10).keys()])
  })
})

describe("custom template response", () => {
  // A character-level stand-in for a tokenizer: each character is one token (its code point).
  const policy = {
    info: { bosTokenId: undefined, eosTokenIds: [0], contextLength: 1000, hasChatTemplate: false },
    encode: (text: string) => Effect.succeed([...text].map((c) => c.codePointAt(0)!))
  } as never
  const codes = (text: string) => [...text].map((c) => c.codePointAt(0)!)
  it("wraps the trained text with `response` (e.g. a leading space after `Output:`); the default trains the output as is", async () => {
    const record = { instruction: "Add.", input: "2 3", output: "5" }
    const withSpace = await Effect.runPromise(toSequence(policy, { prompt: "{instruction} {input}\nOutput:", response: " {output}" }, record, "r"))
    expect(withSpace).toEqual({ tokens: [...codes("Add. 2 3\nOutput:"), ...codes(" 5"), 0], promptLength: codes("Add. 2 3\nOutput:").length })
    const plain = await Effect.runPromise(toSequence(policy, { prompt: "{instruction} {input}\nOutput:" }, record, "r"))
    expect(plain.tokens.slice(plain.promptLength)).toEqual([...codes("5"), 0])
  })
  it("chat: one BOS whether or not the model's chat template writes it (Llama 3, Gemma do; Qwen does not)", async () => {
    // A tokenizer stand-in that reads the BOS text as the BOS token (id 2), as tokenizers match special tokens in text.
    const chatPolicy = (templateWritesBos: boolean) => ({
      info: { bosTokenId: 2, eosTokenIds: [1], contextLength: 1000, hasChatTemplate: true },
      encode: (text: string) => Effect.succeed(text.startsWith("<bos>") ? [2, ...codes(text.slice(5))] : codes(text)),
      applyChatTemplate: (messages: ReadonlyArray<{ content: string }>) => Effect.succeed(`${templateWritesBos ? "<bos>" : ""}<user>${messages[0]!.content}<model>`)
    }) as never
    const record = { instruction: "Hi.", input: "", output: "ok" }
    const prompt = [2, ...codes("<user>Hi.<model>")]
    for (const writesBos of [true, false]) {
      const sequence = await Effect.runPromise(toSequence(chatPolicy(writesBos), "chat", record, "r"))
      expect(sequence.tokens.slice(0, sequence.promptLength), `template writes BOS: ${writesBos}`).toEqual(prompt)
    }
  })
  it("chat: a reply ends with the end-of-turn token the template writes after an assistant turn, where it is an EOS id", async () => {
    // Stand-ins: "<eot>" reads as id 7, "<eos>" as id 1; the template closes an assistant turn with `closing`.
    const encode = (text: string) => Effect.succeed(text.startsWith("<eot>") ? [7, ...codes(text.slice(5))] : codes(text))
    const chatPolicy = (closing: string, eos: Array<number>) => ({
      info: { bosTokenId: undefined, eosTokenIds: eos, contextLength: 1000, hasChatTemplate: true },
      encode,
      applyChatTemplate: (messages: ReadonlyArray<{ role: string; content: string }>) =>
        Effect.succeed(messages.map((m) => `<${m.role}>${m.content}${m.role === "assistant" ? closing : ""}`).join("") + (messages.at(-1)?.role === "user" ? "<assistant>" : ""))
    }) as never
    const record = { instruction: "Hi.", input: "", output: "ok" }
    const endOf = async (policy: never, template: "chat" | "alpaca" = "chat") => {
      const end = await Effect.runPromise(responseEnd(policy, template))
      const sequence = await Effect.runPromise(toSequence(policy, template, record, "r", end))
      return sequence.tokens.at(-1)
    }
    expect(await endOf(chatPolicy("<eot>\n", [1, 7]))).toBe(7)
    // Not an EOS id, or nothing written after the turn: the first EOS id, as before; other templates always.
    expect(await endOf(chatPolicy("<eot>\n", [1]))).toBe(1)
    expect(await endOf(chatPolicy("", [1, 7]))).toBe(1)
    expect(await endOf(chatPolicy("<eot>\n", [1, 7]), "alpaca")).toBe(1)
  })
  it("refuses a response without {output}", () => {
    expect(() => Schema.decodeUnknownSync(SftOptions)({ template: { prompt: "{instruction}", response: "answer" } })).toThrow(/must contain \{output\}/)
  })
})
