/**
 * `sft/lora`'s bad input through the CLI (the in-memory checks are in
 * plugins/trainer-sft/test): an empty or malformed JSONL file, a record without
 * `output`, a record longer than the context, a LoRA target the model lacks, a
 * NaN loss — each exit 1 naming the line or option, nothing trained; a data
 * file that does not exist — exit 2 at validate, no run started.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { committedCount, onlyRunDir, runCli, tempDir } from "./cli.ts"

const recipe = "tests/recipes/sft-crash.yaml" // the built-in tiny Qwen2, max_context 64
const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/)

describe("sft/lora: bad input through the CLI", () => {
  it("each bad file or option is a clear error with its exit code, and nothing is trained", async () => {
    const data = tempDir("sft-bad-data")
    const file = (name: string, text: string) => {
      fs.writeFileSync(path.join(data, name), text)
      return path.join(data, name)
    }
    const good = '{"instruction": "Name a colour.", "input": "", "output": "Red."}'
    const cases: Array<{ overrides: Array<string>; code: number; error: RegExp }> = [
      { overrides: [`stages.sft.path=${file("empty.jsonl", "\n")}`], code: 1, error: /sft: the dataset is empty/ },
      { overrides: [`stages.sft.path=${file("broken.jsonl", `${good}\n{"instruction": "x"\n`)}`], code: 1, error: /line 2 of .*broken\.jsonl is not valid JSON/ },
      { overrides: [`stages.sft.path=${file("no-output.jsonl", `${good}\n${good}\n{"instruction": "Name a fruit.", "input": ""}\n`)}`], code: 1, error: /line 3 of .*no-output\.jsonl has no "output"/ },
      { overrides: [`stages.sft.path=${file("long.jsonl", `${JSON.stringify({ instruction: "Repeat this. ".repeat(20), input: "", output: "ok" })}\n`)}`], code: 1, error: /line 1 of .*long\.jsonl: prompt \+ response is \d+ tokens .*longer than the model's context of 64/ },
      { overrides: ["stages.sft.lora.targets=[q_proj, w_proj]"], code: 1, error: /option lora\.targets: \["w_proj"\] are not modules of .*\n\s+fix: use some of q_proj, k_proj/ },
      { overrides: ["stages.sft.lr=1e300", "stages.sft.warmup_steps=0", "stages.sft.schedule=constant", "stages.sft.clip_grad_norm=1e300", "stages.sft.checkpoint_every=1"], code: 1, error: /(NaN|Infinity).*(not applied|kept)/s },
      { overrides: [`stages.sft.path=${path.join(data, "missing.jsonl")}`], code: 2, error: /missing\.jsonl/ }
    ]
    for (const c of cases) {
      const runsDir = tempDir("sft-bad")
      const result = await runCli(["run", recipe, ...c.overrides, "--runs-dir", runsDir, "--no-cache"], { REFINE_AF_CACHE: tempDir("sft-bad-cache") })
      expect(result.code, `${c.overrides.join(" ")}: ${result.stderr}`).toBe(c.code)
      expect(result.stderr).toMatch(c.error)
      noStackTrace(result.stderr)
      if (c.code === 2) {
        expect(fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []).toEqual([]) // refused at validate
        continue
      }
      const runDir = await onlyRunDir(runsDir)
      expect(fs.existsSync(path.join(runDir, "stages", "sft", "adapter"))).toBe(false)
      if (!c.overrides.some((o) => o.startsWith("stages.sft.lr="))) expect(committedCount(runDir, "sft")).toBe(0)
    }
  }, 600_000)

  it("a learning rate that saturates the model (finite, but every later gradient exactly 0) completes with a warning naming it", async () => {
    const result = await runCli(["run", "recipes/examples/sft.yaml", "stages.sft.lr=1e10", "--runs-dir", tempDir("sft-saturated"), "--no-cache"], { REFINE_AF_CACHE: tempDir("sft-saturated-cache") })
    expect(result.code, result.stderr).toBe(0)
    expect(`${result.stdout}\n${result.stderr}`).toMatch(/the gradient has been exactly 0 for 2 updates .* the model has saturated .* Lower lr/s)
    noStackTrace(result.stderr)
  }, 300_000)
})
