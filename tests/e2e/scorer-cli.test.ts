/**
 * The scorers through the CLI (`reward-model/hf` and `unieval/dialog` scoring a
 * JSONL file with `reward/score`), on the tiny GPT-NeoX reward model of
 * tools/golden/gpt-neox: a sample longer than the context is truncated with a
 * warning and a counted metric (exit 0); a hostile `.bin` (a pickle calling
 * os.system, a truncated zip) is refused without running anything (exit 1,
 * naming the file and the opcode); a folder missing files is refused at
 * validate (exit 2, naming the folder and the files), before any run starts.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { op, writeBpeTokenizer, writeTorchBin } from "@refine-af/testing"
import { onlyRunDir, pluginPath as plugin, records, repoRoot, runCli, runEvents, runFresh as run, stackTrace, tempDir } from "./cli.ts"

const golden = path.join(repoRoot, "tools/golden/gpt-neox/tiny-gpt-neox-rm")
const noStackTrace = (text: string) => expect(text).not.toMatch(stackTrace)

/** A recipe folder: `rm/` (the tiny reward model with `weights` and a BPE tokenizer), `samples.jsonl`, and `recipe.yaml` scoring it. */
const setUp = (weights: "model.safetensors" | "pytorch_model.bin", scorer = "rm: { _component_: reward-model/hf, backend: compute, path: rm, max_length: 24 }") => {
  const dir = tempDir("scorer-cli")
  const rm = path.join(dir, "rm")
  fs.mkdirSync(rm)
  fs.copyFileSync(path.join(golden, "config.json"), path.join(rm, "config.json"))
  fs.copyFileSync(path.join(golden, weights), path.join(rm, weights))
  writeBpeTokenizer(rm)
  fs.writeFileSync(path.join(dir, "samples.jsonl"), [
    { instruction: "Add the numbers.", input: "2 3", output: "5" },
    { instruction: "Say hello.", input: "", output: "hello there, the answer is a long one ".repeat(4) }
  ].map((s) => JSON.stringify(s)).join("\n") + "\n")
  fs.writeFileSync(path.join(dir, "recipe.yaml"), `# scorer CLI test
name: scorer-cli
seed: 1
plugins:
  - ${plugin("plugins/backend-onnx")}
  - ${plugin("plugins/reward-model")}
  - ${plugin("plugins/unieval")}
  - ${plugin("plugins/reward")}
resources:
  compute: { _component_: backend-onnx/onnx }
  ${scorer}
stages:
  scored: { _component_: reward/score, path: samples.jsonl, scorer: ${scorer.split(":")[0]} }
`)
  return { dir, rm, recipe: path.join(dir, "recipe.yaml") }
}

describe("scorers through the CLI", () => {
  it("a sample longer than the context is truncated with a warning and a counted metric, never a crash", async () => {
    const { recipe } = setUp("model.safetensors")
    const runsDir = tempDir("scorer-runs")
    const result = await run(recipe, runsDir)
    expect(result.code, result.stderr).toBe(0)
    expect(`${result.stdout}${result.stderr}`).toMatch(/rm: 1 sample\(s\) longer than 24 tokens \(longest \d+\) were truncated/)
    const runDir = await onlyRunDir(runsDir)
    const scores = records(runDir, "scored").map((r) => r["score"] as number)
    expect(scores).toHaveLength(2)
    for (const score of scores) expect(Number.isFinite(score)).toBe(true)
    expect(runEvents(runDir).some((e) => e["type"] === "metric" && e["name"] === "reward_model_truncated" && e["value"] === 1)).toBe(true)
  })

  it("a hostile .bin is refused without running it: a pickle calling os.system, a truncated zip (exit 1, file and problem named)", async () => {
    const hostile = setUp("pytorch_model.bin")
    const marker = path.join(hostile.dir, "pwned")
    writeTorchBin(path.join(hostile.rm, "pytorch_model.bin"), Buffer.concat([op.proto, op.global("os", "system"), op.mark, op.str(`touch ${marker}`), op.tuple, op.reduce, op.stop]))
    const refused = await run(hostile.recipe, tempDir("scorer-runs"))
    expect(refused.code, refused.stderr).toBe(1)
    expect(refused.stderr).toMatch(/pytorch_model\.bin/)
    expect(refused.stderr).toMatch(/global os\.system/)
    noStackTrace(refused.stderr)
    expect(fs.existsSync(marker)).toBe(false)

    const truncated = setUp("pytorch_model.bin")
    const bin = path.join(truncated.rm, "pytorch_model.bin")
    fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 5000))
    const cut = await run(truncated.recipe, tempDir("scorer-runs"))
    expect(cut.code, cut.stderr).toBe(1)
    expect(cut.stderr).toMatch(/pytorch_model\.bin/)
    noStackTrace(cut.stderr)
  })

  it("a scorer folder missing files is refused at validate (exit 2, folder and files named), for reward-model/hf and unieval/dialog", async () => {
    const rm = setUp("model.safetensors")
    fs.rmSync(path.join(rm.rm, "tokenizer.json"))
    const runsDir = tempDir("scorer-runs")
    const missing = await run(rm.recipe, runsDir)
    expect(missing.code, missing.stderr).toBe(2)
    expect(missing.stderr).toMatch(/rm.* has no tokenizer\.json/)
    noStackTrace(missing.stderr)
    expect(fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []).toEqual([])

    const unieval = setUp("model.safetensors", "ue: { _component_: unieval/dialog, backend: compute, path: rm }")
    fs.rmSync(path.join(unieval.rm, "model.safetensors"))
    const noWeights = await runCli(["validate", unieval.recipe])
    expect(noWeights.code, noWeights.stderr).toBe(2)
    expect(noWeights.stderr).toMatch(/model\.safetensors|pytorch_model\.bin/)
    noStackTrace(noWeights.stderr)
  })
})
