/**
 * The resume contract every record-producing stage must keep (see
 * `StageContext`): killed after any number of durable records and resumed,
 * it finishes with exactly the records of an uninterrupted run — none lost,
 * none duplicated — and the same summary (`metrics`, `data`: what the runner
 * records in the manifest). `checkResumeContract` runs a stage once
 * uninterrupted, then once per crash point k: an attempt killed right after
 * the commit that makes at least k records durable (`memoryWriter`'s
 * `crashAfter`), and an attempt resumed from what that commit left, its
 * records and its `state` (`resumedState`), as the runner resumes after
 * `kill -9`. It reports every crash point whose records or summary differ, and
 * throws when the uninterrupted run wrote no records (nothing to check).
 *
 * @example
 * ```ts
 * import { checkResumeContract } from "@refine-af/testing"
 * // const report = await checkResumeContract({ stage, fields: () => ({ options, uses: { model } }) })
 * // expect(report.mismatches).toEqual([])
 * ```
 */
import { Cause, Exit } from "effect"
import { canonicalJson, type JsonRecord, type StageComponent, type StageSummary } from "@refine-af/core"
import { memoryStageContext, type MemoryStageFields } from "./memory-stage.ts"
import { memoryWriter, type MemoryWriter } from "./memory-writer.ts"
import { runStageExit, type OptionsInput } from "./run-stage.ts"

export interface ResumeContractInput<O, U> {
  readonly stage: StageComponent<O, any>
  /** Fresh context fields per attempt (a fresh model, so no state leaks between attempts). */
  readonly fields: () => Omit<MemoryStageFields<NoInfer<OptionsInput<O>>, U>, "output">
  /** Durable-record counts at which to kill; default: 1, a quarter, a half, all-but-one and all of the full output. */
  readonly crashPoints?: ReadonlyArray<number>
  /** Commit at every append (default: any append may be where the core's writer commits) or only at checkpoints and the stage's end. */
  readonly durableOnAppend?: boolean
}

export interface ResumeMismatch {
  readonly crashAfter: number
  readonly reason: string
}

export interface ResumeContractReport {
  readonly uninterrupted: ReadonlyArray<JsonRecord>
  /** What the uninterrupted run returned. */
  readonly summary: StageSummary | undefined
  readonly checkedCrashPoints: ReadonlyArray<number>
  readonly mismatches: ReadonlyArray<ResumeMismatch>
}

const defaultCrashPoints = (total: number): number[] =>
  [...new Set([1, Math.floor(total / 4), Math.floor(total / 2), total - 1, total])].filter((k) => k >= 1 && k <= total)

export const checkResumeContract = async <O, U>(input: ResumeContractInput<O, U>): Promise<ResumeContractReport> => {
  const durableOnAppend = input.durableOnAppend ?? true
  const attempt = (output: MemoryWriter) => runStageExit(input.stage, memoryStageContext({ ...input.fields(), output }).ctx)
  const full = memoryWriter([], { durableOnAppend })
  const fullExit = await attempt(full)
  if (Exit.isFailure(fullExit)) throw new Error(`checkResumeContract: the uninterrupted run failed: ${Cause.pretty(fullExit.cause)}`)
  const uninterrupted = full.committed
  if (uninterrupted.length === 0) {
    throw new Error(
      "checkResumeContract: the stage wrote no records in its uninterrupted run, so there is nothing to check: " +
        "give it options and inputs that make it write records"
    )
  }
  const summary = fullExit.value ?? undefined
  const crashPoints = input.crashPoints ?? defaultCrashPoints(uninterrupted.length)
  const mismatches: ResumeMismatch[] = []
  for (const crashAfter of crashPoints) {
    const killed = memoryWriter([], { durableOnAppend, crashAfter })
    const killedExit = await attempt(killed)
    if (!killed.killed()) {
      const reason = Exit.isSuccess(killedExit)
        ? `the stage committed only ${killed.committed.length} records, so it was never killed`
        : `the attempt failed before it was killed: ${Cause.pretty(killedExit.cause)}`
      mismatches.push({ crashAfter, reason })
      continue
    }
    if (Exit.isSuccess(killedExit)) {
      mismatches.push({ crashAfter, reason: "the stage finished although its writer was killed (it must not swallow the writer's RecordStreamError)" })
      continue
    }
    const resumed = memoryWriter(killed.committed, { durableOnAppend, resumedState: killed.committedState() })
    const resumedExit = await attempt(resumed)
    if (Exit.isFailure(resumedExit)) {
      mismatches.push({ crashAfter, reason: `the resumed attempt failed: ${Cause.pretty(resumedExit.cause)}` })
      continue
    }
    const reasons = [firstDifference(uninterrupted, resumed.committed), summaryDifference(summary, resumedExit.value ?? undefined)]
    const reason = reasons.filter((text) => text !== undefined).join("; ")
    if (reason !== "") mismatches.push({ crashAfter, reason })
  }
  return { uninterrupted, summary, checkedCrashPoints: crashPoints, mismatches }
}

const firstDifference = (expected: ReadonlyArray<JsonRecord>, actual: ReadonlyArray<JsonRecord>): string | undefined => {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const want = JSON.stringify(expected[i])
    const got = JSON.stringify(actual[i])
    if (want !== got) return `record ${i}: expected ${want ?? "(none)"}, got ${got ?? "(none)"}`
  }
  return undefined
}

/** The parts of a summary the runner keeps (manifest `metrics` and `data`), compared key-order-free. */
const summaryDifference = (expected: StageSummary | undefined, actual: StageSummary | undefined): string | undefined => {
  for (const part of ["metrics", "data"] as const) {
    const want = canonicalJson(expected?.[part] ?? null)
    const got = canonicalJson(actual?.[part] ?? null)
    if (want !== got) return `summary ${part}: expected ${want}, got ${got} (keep whole-run counters in append's \`state\`, read back as \`resumedState\`)`
  }
  return undefined
}
