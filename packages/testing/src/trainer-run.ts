/**
 * Runs a trainer stage (`ppo/train`, `grpo/train`, `rloo/train`, …) in memory:
 * prompt records on its `prompts` port, its slots filled, a state folder, and a
 * record writer that may "crash" after k durable records — so a test can
 * crash a run and resume it from the same state folder, as the runner would.
 *
 * @example
 * ```ts
 * import { runTrainerStage, tablePolicyModel } from "@refine-af/testing"
 * // const first = await runTrainerStage(grpoStage, options, { policy: tablePolicyModel({ seed: 3 }), reward }, prompts, { crashAfter: 5 })
 * // const second = await runTrainerStage(grpoStage, options, uses, prompts, { stateDir: first.stateDir, dir: first.dir, resumed: first.records, resumedState: first.state })
 * ```
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Json, JsonRecord, StageComponent } from "@refine-af/core"
import { memoryInput, memoryStageContext } from "./memory-stage.ts"
import { memoryWriter } from "./memory-writer.ts"
import { runStageExit, type OptionsInput } from "./run-stage.ts"

/** Where a run continues from (a crashed earlier run's folders and durable records) and when it crashes. */
export interface TrainerRun {
  readonly stateDir?: string
  readonly dir?: string
  readonly resumed?: ReadonlyArray<JsonRecord>
  /** The `state` the crashed run committed (its result's `state`). */
  readonly resumedState?: Json | undefined
  readonly crashAfter?: number
  /** Stage name (default "train") and seed (default 17). */
  readonly name?: string
  readonly seed?: number
}

/** Runs `stage` with `options` (as a recipe writes them, or already decoded), slots `uses` and `prompts` on its `prompts` port. */
export const runTrainerStage = async <O, U>(stage: StageComponent<O, any>, options: NoInfer<OptionsInput<O>>, uses: U, prompts: ReadonlyArray<JsonRecord>, run: TrainerRun = {}) => {
  const output = memoryWriter(run.resumed ?? [], { crashAfter: run.crashAfter, resumedState: run.resumedState })
  const stateDir = run.stateDir ?? mkdtempSync(join(tmpdir(), "trainer-state-"))
  const dir = run.dir ?? mkdtempSync(join(tmpdir(), "trainer-dir-"))
  const { ctx, events } = memoryStageContext({ name: run.name ?? "train", options, uses, seed: run.seed ?? 17, inputs: { prompts: memoryInput("prompts", prompts) }, output, dir, stateDir })
  const exit = await runStageExit(stage, ctx)
  return { exit, records: output.committed, state: output.committedState(), events, stateDir, dir }
}
