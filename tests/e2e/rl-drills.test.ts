/**
 * The RL trainers (`ppo/train`, `grpo/train`, `rloo/train`) through the real
 * CLI on the float64 table policy (`toy/policy`, seconds per run):
 *
 * - kill -9 after durable iterations at two or three points (between and after
 *   checkpoints), `refine-af resume` each time → the uninterrupted run's
 *   adapter bytes and metrics records (timing aside);
 * - a NaN reward (a transient scorer fault) → exit 1 naming the step, rollout
 *   and prompt; the last checkpoint is kept; `refine-af resume` recomputes only
 *   the iterations after it (counted) and ends with the uninterrupted run's
 *   adapter and records;
 * - an ∞ reward, and a finite but absurd one (1e300) that makes the loss or
 *   gradient overflow → exit 1 with the error named, checkpoint kept, and a
 *   resume ends with the uninterrupted run's adapter and records;
 * - bad prompt data and options: an empty or malformed JSONL file, a record
 *   without `prompt`, a prompt longer than the context, a LoRA target the model
 *   lacks → exit 1 naming the line or option; a missing file → exit 2 at validate;
 * - the same option and context errors from a real model (llama/hf, built-in tiny Qwen2).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { adapterBytes, committedCount, onlyRunDir, records, repoRoot, runCli, startCli, tempDir, waitFor, withoutTiming } from "./cli.ts"

const STEPS = 12
const CHECKPOINT_EVERY = 3
const algorithms = {
  ppo: { component: "ppo/train", options: "batchSize: 16, miniBatchSize: 8, ppoEpochs: 2, kl: { initial: 0.02 }", killAt: [2, 5, 10], fault: "inf", error: /step 4: the reward of rollout 1 \(prompt ".*"\) is Infinity; nothing was learned from this step and the last checkpoint is kept/ },
  grpo: { component: "grpo/train", options: "promptsPerStep: 4, samplesPerPrompt: 4, scaleRewards: false", killAt: [4, 8], fault: "1e300", error: /step 4: PolicyError \(NonFinite\): objective group-pg.*gradient norm (NaN|Infinity).*the update was not applied; the last checkpoint is kept/ },
  rloo: { component: "rloo/train", options: "promptsPerStep: 4, samplesPerPrompt: 4", killAt: [3, 7], fault: "1e300", error: /step 4: PolicyError \(NonFinite\): objective group-pg.*(NaN|Infinity).*the update was not applied; the last checkpoint is kept/ }
} as const
type Algorithm = keyof typeof algorithms

const plugin = (p: string) => JSON.stringify(path.join(repoRoot, p))
/** The recipe: toy prompts (or `prompts.path`), the table policy, the flaky digit reward; `override` lines replace the stage's defaults. */
const recipeText = (algorithm: Algorithm, stage: string) => `# RL drill (${algorithm}) on the table policy
name: rl-drill-${algorithm}
seed: 5
plugins:
  - ${plugin("plugins/rl-ppo")}
  - ${plugin("plugins/rl-grpo")}
  - ${plugin("plugins/rl-rloo")}
  - ${plugin("plugins/rl-ppo/test/fixtures/toy.plugin.ts")}
  - ${plugin("tests/e2e/fixtures/flaky-reward.plugin.ts")}
resources:
  policy: { _component_: toy/policy, seed: 3, contextLength: 48 }
  reward: { _component_: flaky/reward }
stages:
  toy: { _component_: toy/prompts }
${stage}
`
const trainStage = (algorithm: Algorithm, source = "prompts: toy", lora = "[table]") =>
  `  train: { _component_: ${algorithms[algorithm].component}, ${source}, policy: policy, reward: reward, steps: ${STEPS}, lr: 0.05, lora: { rank: 4, alpha: 8, targets: ${lora} }, sampling: { maxNewTokens: 3 }, checkpointEvery: ${CHECKPOINT_EVERY}, ${algorithms[algorithm].options} }`

const writeRecipe = (algorithm: Algorithm, stage: string, files: Record<string, string> = {}) => {
  const dir = tempDir(`rl-${algorithm}-recipe`)
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  const file = path.join(dir, "recipe.yaml")
  fs.writeFileSync(file, recipeText(algorithm, stage))
  return file
}
const env = (extra: Record<string, string> = {}) => ({ REFINE_AF_CACHE: tempDir("rl-cache"), REFINE_AF_CHECKPOINT_RECORDS: "1", FLAKY_REWARD_AT: "", FLAKY_REWARD_LOG: "", ...extra })
const outputs = (runDir: string) => ({ records: records(runDir, "train").map(withoutTiming), adapter: adapterBytes(runDir, "train") })
const manifestOf = (runDir: string) => JSON.parse(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")) as { status: string; stages: Record<string, { status: string }> }

describe.each(Object.keys(algorithms) as Array<Algorithm>)("%s through the CLI", (algorithm) => {
  const spec = algorithms[algorithm]
  let recipe = ""
  let expected: ReturnType<typeof outputs>

  beforeAll(async () => {
    recipe = writeRecipe(algorithm, trainStage(algorithm))
    const runsDir = tempDir(`rl-${algorithm}-reference`)
    const reference = await runCli(["run", recipe, "--runs-dir", runsDir, "--no-cache"], env())
    expect(reference.code, reference.stderr).toBe(0)
    expected = outputs(await onlyRunDir(runsDir))
    expect(expected.records.map((r) => r["step"])).toEqual([...Array(STEPS).keys()])
  }, 120_000)

  it(`kill -9 after ${spec.killAt.join(", ")} durable iterations, resume each time → the uninterrupted run's adapter bytes and records`, async () => {
    const runsDir = tempDir(`rl-${algorithm}-killed`)
    const cli = env()
    let runDir: string | undefined
    for (const [attempt, atLeast] of spec.killAt.entries()) {
      const running = attempt === 0 ? startCli(["run", recipe, "--runs-dir", runsDir, "--no-cache"], cli) : startCli(["resume", runDir!], cli)
      runDir ??= await onlyRunDir(runsDir)
      const dir = runDir
      await waitFor(() => committedCount(dir, "train") >= atLeast, running, `${atLeast} durable iterations`)
      running.child.kill("SIGKILL")
      expect((await running.done).signal).toBe("SIGKILL")
      expect(committedCount(dir, "train")).toBeLessThan(STEPS)
    }
    const finished = await runCli(["resume", runDir!], cli)
    expect(finished.code, finished.stderr).toBe(0)
    const actual = outputs(runDir!)
    expect(actual.records).toEqual(expected.records)
    expect(actual.adapter.equals(expected.adapter)).toBe(true)
  }, 240_000)

  it("a NaN reward: exit 1 naming step, rollout and prompt; checkpoint kept; resume recomputes only what follows it and matches the uninterrupted run", async () => {
    const runsDir = tempDir(`rl-${algorithm}-nan`)
    const broken = await runCli(["run", recipe, "--runs-dir", runsDir, "--no-cache"], env({ FLAKY_REWARD_AT: "5:nan" }))
    expect(broken.code, broken.stderr).toBe(1)
    expect(broken.stderr).toMatch(/error in stage "train": step 4: the reward of rollout 1 \(prompt ".+"\) is NaN; nothing was learned from this step and the last checkpoint is kept/)
    expect(broken.stderr).toContain("refine-af resume")
    const runDir = await onlyRunDir(runsDir)
    expect(manifestOf(runDir).stages["train"]?.status).toBe("failed")
    expect(fs.readdirSync(path.join(runDir, "state", "train"))).toContain("policy-checkpoint.json")
    expect(committedCount(runDir, "train")).toBeGreaterThanOrEqual(CHECKPOINT_EVERY)

    const log = path.join(tempDir(`rl-${algorithm}-calls`), "calls.txt")
    const resumed = await runCli(["resume", runDir], env({ FLAKY_REWARD_LOG: log }))
    expect(resumed.code, resumed.stderr).toBe(0)
    // Iterations 3..11 (the checkpoint after iteration 2 is the last good one): nothing before it is recomputed.
    expect(fs.readFileSync(log, "utf8").trim().split("\n").length).toBe(STEPS - CHECKPOINT_EVERY)
    const actual = outputs(runDir)
    expect(actual.records).toEqual(expected.records)
    expect(actual.adapter.equals(expected.adapter)).toBe(true)
  }, 120_000)

  it(`a reward of ${spec.fault} at step 4: exit 1 with the failure named, the last checkpoint kept; resume matches the uninterrupted run`, async () => {
    const runsDir = tempDir(`rl-${algorithm}-fault`)
    const broken = await runCli(["run", recipe, "--runs-dir", runsDir, "--no-cache"], env({ FLAKY_REWARD_AT: `5:${spec.fault}` }))
    expect(broken.code, broken.stderr).toBe(1)
    expect(broken.stderr).toMatch(spec.error)
    expect(broken.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
    const runDir = await onlyRunDir(runsDir)
    expect(fs.readdirSync(path.join(runDir, "state", "train"))).toContain("policy-checkpoint.json")
    expect(fs.existsSync(path.join(runDir, "stages", "train", "adapter"))).toBe(false)
    // The fault was transient: resume continues from the kept checkpoint and nothing of the failed step leaked in.
    const resumed = await runCli(["resume", runDir], env())
    expect(resumed.code, resumed.stderr).toBe(0)
    const actual = outputs(runDir)
    expect(actual.records).toEqual(expected.records)
    expect(actual.adapter.equals(expected.adapter)).toBe(true)
  }, 120_000)

  it("bad prompt data and options: exit 1 naming the line or option (2 for a missing file), nothing trained", async () => {
    const long = "the answer is ".repeat(5) // 70 characters: 71 tokens with BOS, over the context of 48
    const cases: Array<{ files?: Record<string, string>; source?: string; lora?: string; code: number; error: RegExp }> = [
      { files: { "prompts.jsonl": "\n" }, code: 1, error: /the prompt dataset is empty/ },
      { files: { "prompts.jsonl": '{"prompt": "count to"}\n{"prompt": "pick one"\n' }, code: 1, error: /line 2 of .*prompts\.jsonl is not valid JSON/ },
      { files: { "prompts.jsonl": '{"prompt": "count to"}\n["pick one"]\n' }, code: 1, error: /line 2 of .*prompts\.jsonl is not a JSON object/ },
      { files: { "prompts.jsonl": '{"prompt": "count to"}\n\n{"text": "pick one"}\n' }, code: 1, error: /line 3 of .*prompts\.jsonl has no non-empty "prompt" string \(got nothing\)/ },
      { files: { "prompts.jsonl": `${JSON.stringify({ prompt: long })}\n` }, code: 1, error: /line 1 of .*prompts\.jsonl is 71 tokens; with sampling\.maxNewTokens 3 it exceeds the model's context of 48/ },
      { source: "prompts: toy", lora: "[table, q_proj]", code: 1, error: /option lora\.targets: \["q_proj"\] is not a module of table-policy.*\n\s+fix: use some of table/ },
      { source: "path: missing.jsonl", code: 2, error: /missing\.jsonl/ }
    ]
    // The file parsing is shared code: its two malformed-line cases run for ppo/train only.
    const check = async (c: (typeof cases)[number]) => {
      const file = writeRecipe(algorithm, trainStage(algorithm, c.source ?? "path: prompts.jsonl", c.lora), c.files)
      const runsDir = tempDir(`rl-${algorithm}-bad`)
      const result = await runCli(["run", file, "--runs-dir", runsDir, "--no-cache"], env())
      expect(result.code, `${c.error}: ${result.stderr}`).toBe(c.code)
      expect(result.stderr).toMatch(c.error)
      expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
      if (c.code === 1) {
        const runDir = await onlyRunDir(runsDir)
        expect(committedCount(runDir, "train")).toBe(0)
        expect(fs.readdirSync(path.join(runDir, "state", "train"))).toEqual([])
      } else expect(fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []).toEqual([]) // refused at validate: no run started
    }
    const chosen = algorithm === "ppo" ? cases : cases.filter((c) => !/JSON/.test(c.error.source))
    for (let i = 0; i < chosen.length; i += 2) await Promise.all(chosen.slice(i, i + 2).map(check)) // two CLIs at a time
  }, 300_000)
})

describe("on a real model (llama/hf, the built-in tiny Qwen2)", () => {
  it("a LoRA target the model lacks and a prompt longer than its context: exit 1 naming the option / line, nothing trained", async () => {
    const dir = tempDir("rl-llama-bad")
    fs.writeFileSync(path.join(dir, "prompts.jsonl"), `${JSON.stringify({ prompt: "Write a number." })}\n${JSON.stringify({ prompt: "Write a long story about numbers. ".repeat(20) })}\n`)
    const recipe = (lora: string) => `# RL bad input on llama/hf
name: rl-llama-bad
seed: 5
plugins:
  - ${plugin("plugins/backend-onnx")}
  - ${plugin("plugins/model-llama")}
  - ${plugin("plugins/rl-ppo")}
  - ${plugin("tests/e2e/fixtures/flaky-reward.plugin.ts")}
resources:
  compute: { _component_: backend-onnx/onnx }
  policy: { _component_: llama/hf, backend: compute, builtin: { preset: qwen2, seed: 0 }, max_context: 48 }
  reward: { _component_: flaky/reward }
stages:
  train: { _component_: ppo/train, path: prompts.jsonl, policy: policy, reward: reward, steps: 2, batchSize: 2, miniBatchSize: 2, sampling: { maxNewTokens: 4 }, lora: { targets: ${lora} } }
`
    const cases = [
      { lora: "[q_proj, w_proj]", error: /option lora\.targets: \["w_proj"\] is not a module of llama:.*\n\s+fix: use some of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj/ },
      { lora: "[q_proj]", error: /line 2 of .*prompts\.jsonl is \d+ tokens; with sampling\.maxNewTokens 4 it exceeds the model's context of 48/ }
    ]
    await Promise.all(cases.map(async (c, i) => {
      const file = path.join(dir, `recipe-${i}.yaml`)
      fs.writeFileSync(file, recipe(c.lora))
      const runsDir = tempDir("rl-llama-bad-runs")
      const result = await runCli(["run", file, "--runs-dir", runsDir, "--no-cache"], env())
      expect(result.code, result.stderr).toBe(1)
      expect(result.stderr).toMatch(c.error)
      expect(committedCount(await onlyRunDir(runsDir), "train")).toBe(0)
    }))
  }, 240_000)
})
