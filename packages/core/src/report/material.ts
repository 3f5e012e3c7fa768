/**
 * Turns a stage's raw report material into the report's shapes: curve lines into one series
 * per name (downsampled evenly past `maxCurvePoints`), sample objects into groups of named
 * fields (long text cut, nested JSON shown compactly).
 */
import type { ReportCurve, SampleGroup, SampleValue } from "./schema.ts"

/** Points kept per curve: enough for a chart, small enough for the JSON and the page. */
export const maxCurvePoints = 400
/** Samples kept per group. */
export const maxSamplesPerGroup = 8
/** Characters kept of a text field. */
export const maxTextLength = 1200

const spread = <A>(items: ReadonlyArray<A>, count: number): Array<A> =>
  items.length <= count ? [...items] : Array.from({ length: count }, (_, index) => items[Math.round((index * (items.length - 1)) / (count - 1))]!)

/** One curve per numeric field of the points (besides `step`), in order of first appearance. */
export const curvesOf = (rows: ReadonlyArray<unknown>): Array<ReportCurve> => {
  const series = new Map<string, Array<{ step: number; value: number | null }>>()
  for (const row of rows) {
    if (row === null || typeof row !== "object" || Array.isArray(row)) continue
    const step = (row as Record<string, unknown>)["step"]
    if (typeof step !== "number" || !Number.isFinite(step)) continue
    for (const [name, value] of Object.entries(row)) {
      if (name === "step" || (value !== null && typeof value !== "number")) continue
      const points = series.get(name) ?? []
      points.push({ step, value: typeof value === "number" && Number.isFinite(value) ? value : null })
      series.set(name, points)
    }
  }
  return [...series]
    .filter(([, points]) => points.some((point) => point.value !== null))
    .map(([name, points]) => ({ name, points: spread([...points].sort((a, b) => a.step - b.step), maxCurvePoints) }))
}

const cut = (text: string) => (text.length <= maxTextLength ? text : `${text.slice(0, maxTextLength - 1)}…`)

const isBreakdown = (value: object): value is Record<string, number | null> =>
  !Array.isArray(value) && Object.keys(value).length > 0 && Object.values(value).every((part) => part === null || typeof part === "number")

const sampleValue = (value: unknown): SampleValue => {
  if (typeof value === "string") return cut(value)
  if (typeof value === "number") return Number.isFinite(value) ? value : null
  if (typeof value === "boolean" || value === null || value === undefined) return value ?? null
  if (typeof value === "object" && isBreakdown(value)) return value
  return cut(JSON.stringify(value) ?? String(value))
}

/** Sample objects grouped by their `group` field (default "samples"), at most `maxSamplesPerGroup` each. */
export const samplesOf = (rows: ReadonlyArray<unknown>): Array<SampleGroup> => {
  const groups = new Map<string, Array<Array<{ name: string; value: SampleValue }>>>()
  for (const row of rows) {
    if (row === null || typeof row !== "object" || Array.isArray(row)) continue
    const { group, ...fields } = row as Record<string, unknown>
    const name = typeof group === "string" && group !== "" ? group : "samples"
    const samples = groups.get(name) ?? []
    if (samples.length >= maxSamplesPerGroup) continue
    samples.push(Object.entries(fields).map(([field, value]) => ({ name: field, value: sampleValue(value) })))
    groups.set(name, samples)
  }
  return [...groups].map(([group, samples]) => ({ group, samples }))
}
