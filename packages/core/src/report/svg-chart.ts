/**
 * One curve as an inline SVG line chart (no scripts, no external references): the value
 * against the step, with the range of each axis labelled. Gaps (`null`) break the line.
 */
import type { ReportCurve } from "./schema.ts"
import { formatNumber } from "./text-layout.ts"

/** Escapes text for HTML and SVG content and attributes. */
export const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

const width = 340
const height = 190
const margin = { left: 56, right: 14, top: 26, bottom: 30 }

const coordinate = (value: number) => Number(value.toFixed(2))

/** The SVG of one curve; `stage` only names it for screen readers. */
export const curveSvg = (curve: ReportCurve, stage: string): string => {
  const points = curve.points.filter((point): point is { step: number; value: number } => point.value !== null)
  const steps = curve.points.map((point) => point.step)
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)]
  let [y0, y1] = [Math.min(...points.map((point) => point.value)), Math.max(...points.map((point) => point.value))]
  if (y0 === y1) [y0, y1] = [y0 - (Math.abs(y0) || 1) * 0.05, y1 + (Math.abs(y1) || 1) * 0.05]
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const x = (step: number) => coordinate(margin.left + (x1 === x0 ? plotW / 2 : ((step - x0) / (x1 - x0)) * plotW))
  const y = (value: number) => coordinate(margin.top + plotH - ((value - y0) / (y1 - y0)) * plotH)
  const segments: Array<Array<string>> = [[]]
  for (const point of curve.points) {
    if (point.value === null) segments.push([])
    else segments.at(-1)!.push(`${x(point.step)},${y(point.value)}`)
  }
  const lines = segments
    .filter((segment) => segment.length > 1)
    .map((segment) => `<polyline class="line" fill="none" stroke="#2563eb" stroke-width="2" points="${segment.join(" ")}"/>`)
  const dots = points.length <= 60 ? points.map((point) => `<circle cx="${x(point.step)}" cy="${y(point.value)}" r="2.5" fill="#2563eb"/>`) : []
  const last = points.at(-1)
  const label = `${curve.name} of ${stage}: ${points.length} points, steps ${x0} to ${x1}, values ${formatNumber(y0)} to ${formatNumber(y1)}`
  const text = (tx: number, ty: number, anchor: string, content: string, extra = "") =>
    `<text x="${tx}" y="${ty}" text-anchor="${anchor}" font-size="11" fill="#4b5563"${extra}>${escapeXml(content)}</text>`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="curve" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(label)}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="16" font-size="13" font-weight="600" fill="#111827">${escapeXml(curve.name)}${last === undefined ? "" : ` (last ${escapeXml(formatNumber(last.value))})`}</text>`,
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="#f9fafb" stroke="#d1d5db"/>`,
    text(margin.left - 6, margin.top + 10, "end", formatNumber(y1)),
    text(margin.left - 6, margin.top + plotH, "end", formatNumber(y0)),
    text(margin.left, height - 10, "start", `step ${x0}`),
    text(margin.left + plotW, height - 10, "end", `step ${x1}`),
    ...lines,
    ...dots,
    "</svg>"
  ].join("\n")
}
