/**
 * Runs `group/grpo` or `group/rloo` in memory on the table policy (from @refine-af/testing) with
 * a rule reward, with a state folder and a record writer that may "crash".
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import type { JsonRecord, RewardService } from "@refine-af/core"
import { memoryInput, memoryStageContext, memoryWriter, runStageExit, tablePolicyModel } from "@refine-af/testing"
import { makeRuleReward, RuleSet } from "@refine-af/reward-rules"
import { GrpoOptions, grpoStage, RlooOptions, rlooStage } from "../../src/index.ts"

export const toyPrompts: Array<JsonRecord> = ["the answer is", "count to", "my number:", "give a code", "pick one", "say it"].map((prompt) => ({ prompt }))

export const digitReward = (): RewardService => makeRuleReward("digit", Schema.decodeUnknownSync(RuleSet)({ rules: [{ kind: "contains-digit" }] }))

/** The toy task's settings: small batches, a large learning rate for the table policy, 3-token completions. */
export const toyOptions = {
  steps: 16,
  promptsPerStep: 4,
  samplesPerPrompt: 4,
  miniBatchSize: 4,
  lr: 0.05,
  beta: 0.02,
  lora: { rank: 4, alpha: 8, targets: ["table"] },
  sampling: { maxNewTokens: 3 },
  checkpointEvery: 4
}

export interface GroupRun {
  readonly stateDir?: string
  readonly dir?: string
  readonly resumed?: ReadonlyArray<JsonRecord>
  readonly crashAfter?: number
  readonly reward?: RewardService
}

export const runGroup = async (algorithm: "grpo" | "rloo", options: Record<string, unknown>, run: GroupRun = {}) => {
  const output = memoryWriter(run.resumed ?? [], run.crashAfter === undefined ? {} : { crashAfter: run.crashAfter })
  const stateDir = run.stateDir ?? mkdtempSync(join(tmpdir(), "group-state-"))
  const dir = run.dir ?? mkdtempSync(join(tmpdir(), "group-dir-"))
  const { ctx, events } = memoryStageContext({
    name: algorithm,
    options: Schema.decodeUnknownSync(algorithm === "grpo" ? GrpoOptions : RlooOptions)(options),
    uses: { policy: tablePolicyModel({ seed: 3, contextLength: 48 }), reward: run.reward ?? digitReward() },
    seed: 17,
    inputs: { prompts: memoryInput("prompts", toyPrompts) },
    output,
    dir
  })
  const exit = await runStageExit(algorithm === "grpo" ? grpoStage : rlooStage, { ...ctx, stateDir } as never)
  return { exit, records: output.committed, events, stateDir, dir }
}
