/**
 * Resume arithmetic for stages whose output is produced in units (a
 * bootstrapping step, an instruction's instances), each unit yielding zero or
 * more records.
 *
 * A crash can leave a unit half-written. The stage then replays the unit of
 * the last durable record from the same state and seed, skips the records
 * already durable and appends the rest, so the output equals an uninterrupted
 * run's. Units after it that produced no record are simply run again.
 *
 * @example
 * ```ts
 * import { resumePoint } from "./resume.ts"
 * resumePoint([{ step: 0 }, { step: 2 }, { step: 2 }], (record) => Number(record["step"]))
 * // { unit: 2, durableInUnit: 2, durableBeforeUnit: 1 }
 * ```
 */
import type { JsonRecord } from "@refine-af/core"

/** Where to restart. */
export interface ResumePoint {
  /** The unit to (re)run first. */
  readonly unit: number
  /** How many records of that unit are already durable (skip them when replaying it). */
  readonly durableInUnit: number
  /** How many durable records belong to earlier units (they rebuild the stage's state). */
  readonly durableBeforeUnit: number
}

/** The resume point after `durable` records (in output order), whose units `unitOf` reads. */
export const resumePoint = (durable: ReadonlyArray<JsonRecord>, unitOf: (record: JsonRecord) => number): ResumePoint => {
  const last = durable[durable.length - 1]
  if (last === undefined) return { unit: 0, durableInUnit: 0, durableBeforeUnit: 0 }
  const unit = unitOf(last)
  let durableBeforeUnit = durable.length
  while (durableBeforeUnit > 0 && unitOf(durable[durableBeforeUnit - 1]!) === unit) durableBeforeUnit--
  return { unit, durableInUnit: durable.length - durableBeforeUnit, durableBeforeUnit }
}
