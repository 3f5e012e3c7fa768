/**
 * Runs `ppo/train` in memory on the table policy (from @refine-af/testing) with
 * a rule reward, with a state folder and a record writer that may "crash".
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import type { JsonRecord, RewardService } from "@refine-af/core"
import { memoryInput, memoryStageContext, memoryWriter, runStageExit, tablePolicyModel } from "@refine-af/testing"
import { makeRuleReward, RuleSet } from "@refine-af/reward-rules"
import type { PolicyModelService } from "@refine-af/training"
import { PpoOptions, ppoTrainStage } from "../../src/index.ts"

/** The toy task's policy: the table policy, seed 3. */
export const toyPolicy = (): PolicyModelService => tablePolicyModel({ seed: 3, contextLength: 48 })

export const toyPrompts: Array<JsonRecord> = ["the answer is", "count to", "my number:", "give a code", "pick one", "say it"].map((prompt) => ({ prompt }))

export const digitReward = (): RewardService => makeRuleReward("digit", Schema.decodeUnknownSync(RuleSet)({ rules: [{ kind: "contains-digit" }] }))

/** The toy task's settings: small batches, a large learning rate for the table policy, 3-token completions. */
export const toyOptions = {
  steps: 16,
  batchSize: 16,
  miniBatchSize: 8,
  ppoEpochs: 2,
  lr: 0.05,
  lora: { rank: 4, alpha: 8, targets: ["table"] },
  kl: { initial: 0.02 },
  sampling: { maxNewTokens: 3 },
  checkpointEvery: 4
}

export interface PpoRun {
  readonly stateDir?: string
  readonly dir?: string
  readonly resumed?: ReadonlyArray<JsonRecord>
  readonly crashAfter?: number
  readonly reward?: RewardService
  /** The policy (default: the table policy, seed 3). */
  readonly policy?: PolicyModelService
}

export const runPpo = async (options: Record<string, unknown>, run: PpoRun = {}) => {
  const output = memoryWriter(run.resumed ?? [], run.crashAfter === undefined ? {} : { crashAfter: run.crashAfter })
  const stateDir = run.stateDir ?? mkdtempSync(join(tmpdir(), "ppo-state-"))
  const dir = run.dir ?? mkdtempSync(join(tmpdir(), "ppo-dir-"))
  const { ctx, events } = memoryStageContext({
    name: "ppo",
    options: Schema.decodeUnknownSync(PpoOptions)(options),
    uses: { policy: run.policy ?? toyPolicy(), reward: run.reward ?? digitReward() },
    seed: 17,
    inputs: { prompts: memoryInput("prompts", toyPrompts) },
    output,
    dir
  })
  const exit = await runStageExit(ppoTrainStage, { ...ctx, stateDir } as never)
  return { exit, records: output.committed, events, stateDir, dir }
}
