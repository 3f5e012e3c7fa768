/**
 * The resume contract every record-producing stage must keep (see
 * `StageContext`): killed after any number of durable records and resumed,
 * it finishes with exactly the records of an uninterrupted run — none lost,
 * none duplicated. `checkResumeContract` runs a stage once uninterrupted, then
 * once per crash point (crash after k durable records, resume from those k),
 * and reports every crash point whose final records differ.
 *
 * @example
 * ```ts
 * import { checkResumeContract } from "@refine-af/testing"
 * // const report = await checkResumeContract({ stage, fields: () => ({ options, uses: { model } }) })
 * // expect(report.mismatches).toEqual([])
 * ```
 */
import { Exit } from "effect"
import type { JsonRecord, StageComponent } from "@refine-af/core"
import { memoryStageContext, memoryWriter, type MemoryStageFields } from "./memory-stage.ts"
import { runStage, runStageExit } from "./run-stage.ts"

export interface ResumeContractInput<O, U> {
  readonly stage: StageComponent<O, any>
  /** Fresh context fields per attempt (a fresh model, so no state leaks between attempts). */
  readonly fields: () => Omit<MemoryStageFields<O, U>, "output">
  /** Durable-record counts at which to crash; default: 1, a quarter, a half and all-but-one of the full output. */
  readonly crashPoints?: ReadonlyArray<number>
  /** Records become durable on every append (default) or only at checkpoints. */
  readonly durableOnAppend?: boolean
}

export interface ResumeMismatch {
  readonly crashAfter: number
  readonly reason: string
}

export interface ResumeContractReport {
  readonly uninterrupted: ReadonlyArray<JsonRecord>
  readonly checkedCrashPoints: ReadonlyArray<number>
  readonly mismatches: ReadonlyArray<ResumeMismatch>
}

const defaultCrashPoints = (total: number): number[] =>
  [...new Set([1, Math.floor(total / 4), Math.floor(total / 2), total - 1])].filter((k) => k >= 1 && k < total)

export const checkResumeContract = async <O, U>(input: ResumeContractInput<O, U>): Promise<ResumeContractReport> => {
  const durableOnAppend = input.durableOnAppend ?? true
  const full = memoryStageContext({ ...input.fields(), output: memoryWriter([], { durableOnAppend }) })
  await runStage(input.stage, full.ctx)
  const uninterrupted = full.output.committed
  const crashPoints = input.crashPoints ?? defaultCrashPoints(uninterrupted.length)
  const mismatches: ResumeMismatch[] = []
  for (const crashAfter of crashPoints) {
    const killed = memoryStageContext({ ...input.fields(), output: memoryWriter([], { durableOnAppend, crashAfter }) })
    const killedExit = await runStageExit(input.stage, killed.ctx)
    if (Exit.isSuccess(killedExit)) {
      mismatches.push({ crashAfter, reason: "the stage finished although the writer crashed" })
      continue
    }
    const survivors = [...killed.output.committed]
    const resumed = memoryStageContext({ ...input.fields(), output: memoryWriter(survivors, { durableOnAppend }) })
    await runStage(input.stage, resumed.ctx)
    const final = resumed.output.committed
    const reason = firstDifference(uninterrupted, final)
    if (reason) mismatches.push({ crashAfter, reason })
  }
  return { uninterrupted, checkedCrashPoints: crashPoints, mismatches }
}

const firstDifference = (expected: ReadonlyArray<JsonRecord>, actual: ReadonlyArray<JsonRecord>): string | undefined => {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const want = JSON.stringify(expected[i])
    const got = JSON.stringify(actual[i])
    if (want !== got) return `record ${i}: expected ${want ?? "(none)"}, got ${got ?? "(none)"}`
  }
  return undefined
}
