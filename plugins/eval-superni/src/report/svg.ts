/**
 * Inline SVG charts for the HTML reports: no scripts, no external assets, so
 * a report opens offline in any browser. Bars are horizontal so long task
 * names stay readable; each bar carries a `<title>` tooltip with the exact value.
 */
import { escapeHtml, fixed2 } from "./format.ts"

/** One bar: a label and one value per series. */
export interface BarDatum {
  readonly label: string
  readonly values: ReadonlyArray<number>
}

/** Title, series and colours of a bar chart. */
export interface BarChartOptions {
  readonly title: string
  /** Series names (legend) and colours, one per value of each datum. */
  readonly series: ReadonlyArray<{ readonly name: string; readonly color: string }>
  /** Colour positive and negative values differently (delta charts); overrides the series colour. */
  readonly signColors?: { readonly positive: string; readonly negative: string }
  readonly width?: number
}

const labelWidth = 330
const valueWidth = 70
const barHeight = 12
const rowGap = 6
const maxLabelChars = 48

const shorten = (label: string) => (label.length > maxLabelChars ? `${label.slice(0, maxLabelChars - 1)}…` : label)

/** A horizontal bar chart; negative values extend left of the zero line. */
export const barChartSvg = (data: ReadonlyArray<BarDatum>, options: BarChartOptions): string => {
  const width = options.width ?? 1000
  const plotWidth = width - labelWidth - valueWidth
  const all = data.flatMap((datum) => datum.values).filter(Number.isFinite)
  const minimum = Math.min(0, ...all)
  const maximum = Math.max(0, ...all)
  const span = maximum - minimum || 1
  const x = (value: number) => labelWidth + ((value - minimum) / span) * plotWidth
  const groupHeight = options.series.length * barHeight + rowGap
  const top = 40
  const height = top + data.length * groupHeight + 20
  const parts: Array<string> = []
  parts.push(`<text x="0" y="16" class="chart-title">${escapeHtml(options.title)}</text>`)
  let legendX = labelWidth
  for (const series of options.signColors === undefined ? options.series : []) {
    parts.push(`<rect x="${legendX}" y="24" width="10" height="10" fill="${series.color}"/>`)
    parts.push(`<text x="${legendX + 14}" y="33" class="legend">${escapeHtml(series.name)}</text>`)
    // 11px sans-serif averages under 7px per character; leave a gap after the longest names.
    legendX += 14 + series.name.length * 7 + 24
  }
  data.forEach((datum, row) => {
    const y0 = top + row * groupHeight
    parts.push(
      `<text x="${labelWidth - 6}" y="${y0 + (options.series.length * barHeight) / 2 + 4}" text-anchor="end" class="label"><title>${escapeHtml(datum.label)}</title>${escapeHtml(shorten(datum.label))}</text>`
    )
    datum.values.forEach((value, index) => {
      const safe = Number.isFinite(value) ? value : 0
      const start = Math.min(x(0), x(safe))
      const barWidth = Math.max(Math.abs(x(safe) - x(0)), safe === 0 ? 0 : 1)
      const color = options.signColors === undefined
        ? options.series[index]?.color ?? "#888"
        : safe >= 0 ? options.signColors.positive : options.signColors.negative
      const y = y0 + index * barHeight
      parts.push(
        `<rect x="${start.toFixed(1)}" y="${y}" width="${barWidth.toFixed(1)}" height="${barHeight - 2}" fill="${color}"><title>${escapeHtml(`${datum.label} · ${options.series[index]?.name ?? ""}: ${fixed2(value)}`)}</title></rect>`
      )
      parts.push(`<text x="${width - valueWidth + 6}" y="${y + barHeight - 3}" class="value">${fixed2(value)}</text>`)
    })
  })
  parts.push(`<line x1="${x(0).toFixed(1)}" y1="${top - 4}" x2="${x(0).toFixed(1)}" y2="${height - 16}" class="axis"/>`)
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join("")}</svg>`
}
