/**
 * Helpers for stage authors: write the report conventions (`curves.jsonl`, `samples.jsonl`,
 * `tables.json`, see `conventions.ts`) into the stage folder, atomically, failing with the
 * stage's `StageError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { writeCurves } from "@refine-af/core"
 * declare const ctx: { readonly name: string; readonly dir: string }
 * const program = writeCurves(ctx, [{ step: 0, loss: 2.1 }, { step: 1, loss: 1.7 }])
 * ```
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { writeFileAtomic } from "../run/fs-atomic.ts"
import { StageError } from "../stage/errors.ts"
import { reportFiles, type CurvePoint, type ReportTable, type SampleInput } from "./conventions.ts"

/** The part of a stage context the writers need. */
export interface StageFolder {
  readonly name: string
  readonly dir: string
}

const writeIn = (stage: StageFolder, file: string, content: string): Effect.Effect<void, StageError> =>
  Effect.try({
    try: () => {
      fs.mkdirSync(stage.dir, { recursive: true })
      writeFileAtomic(path.join(stage.dir, file), content)
    },
    catch: (cause) =>
      new StageError({
        stage: stage.name,
        message: `cannot write ${path.join(stage.dir, file)}: ${cause instanceof Error ? cause.message : String(cause)}`,
        fix: "check that the run folder is writable and the disk is not full, then resume the run"
      })
  })

const jsonLines = (rows: ReadonlyArray<unknown>) => rows.map((row) => `${JSON.stringify(row)}\n`).join("")

/** Writes `curves.jsonl`: one `{ step, <curve>: value }` line per step (non-finite values become `null`). */
export const writeCurves = (stage: StageFolder, points: ReadonlyArray<CurvePoint>): Effect.Effect<void, StageError> =>
  writeIn(stage, reportFiles.curves, jsonLines(points.map((point) =>
    Object.fromEntries(Object.entries(point).map(([name, value]) => [name, value !== null && Number.isFinite(value) ? value : null]))
  )))

/** Writes `samples.jsonl`: a few examples, each with its `group` (e.g. "accepted", "rejected"). */
export const writeSamples = (stage: StageFolder, samples: ReadonlyArray<SampleInput>): Effect.Effect<void, StageError> =>
  writeIn(stage, reportFiles.samples, jsonLines(samples))

/** Writes `tables.json`. */
export const writeTables = (stage: StageFolder, tables: ReadonlyArray<ReportTable>): Effect.Effect<void, StageError> =>
  writeIn(stage, reportFiles.tables, `${JSON.stringify({ tables }, null, 2)}\n`)

/**
 * Up to `count` items spread evenly over `items` (first and last included): a deterministic
 * choice of samples that does not favour the start.
 */
export const evenlySpaced = <A>(items: ReadonlyArray<A>, count: number): Array<A> => {
  if (count <= 0 || items.length === 0) return []
  if (items.length <= count) return [...items]
  if (count === 1) return [items[0]!]
  return Array.from({ length: count }, (_, index) => items[Math.round((index * (items.length - 1)) / (count - 1))]!)
}

/**
 * Turns per-step records (e.g. a trainer's one record per step) into curve points holding
 * only the named fields that are numbers.
 */
export const curvePointsOf = (records: ReadonlyArray<Readonly<Record<string, unknown>>>, names: ReadonlyArray<string>, stepField = "step"): Array<CurvePoint> =>
  records.flatMap((record) => {
    const step = record[stepField]
    if (typeof step !== "number") return []
    const point: Record<string, number | null> = { step }
    for (const name of names) {
      const value = record[name]
      if (typeof value === "number") point[name] = Number.isFinite(value) ? value : null
      else if (value === null) point[name] = null
    }
    return [point]
  })
