/**
 * Plain-text layout for the Markdown report: number formatting, word wrapping and pipe
 * tables that fit a width (cells are cut with "…" rather than overflowing the line).
 */
import type { TableCell } from "./conventions.ts"

/** Width every line of `report.md` fits in. */
export const markdownWidth = 100

/** A number for people: integers whole, others with 4 significant digits. */
export const formatNumber = (value: number): string => {
  if (!Number.isFinite(value)) return String(value)
  if (Number.isInteger(value)) return String(value)
  const magnitude = Math.abs(value)
  if (magnitude >= 1000) return value.toFixed(1)
  if (magnitude >= 0.001) return String(Number(value.toPrecision(4)))
  return value.toExponential(2)
}

/** A table cell as text. */
export const cellText = (cell: TableCell): string => (cell === null ? "-" : typeof cell === "number" ? formatNumber(cell) : cell)

/** `text` cut to `width` characters, ending in "…" when cut. */
export const cutText = (text: string, width: number): string =>
  text.length <= width ? text : width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`

/** Splits `text` into lines of at most `width` characters at spaces; a longer word is split hard. */
export const wrapText = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  for (const paragraph of text.split("\n")) {
    let line = ""
    for (let word of paragraph.split(/\s+/).filter((piece) => piece !== "")) {
      while (word.length > width) {
        if (line !== "") {
          lines.push(line)
          line = ""
        }
        lines.push(word.slice(0, width))
        word = word.slice(width)
      }
      if (line === "") line = word
      else if (line.length + 1 + word.length <= width) line = `${line} ${word}`
      else {
        lines.push(line)
        line = word
      }
    }
    lines.push(line)
  }
  return lines
}

/** `text` wrapped to `width`, the first line prefixed by `first` and the rest by spaces of the same length. */
export const hangingIndent = (first: string, text: string, width: number): Array<string> => {
  const indent = " ".repeat(first.length)
  return wrapText(text, Math.max(8, width - first.length)).map((line, index) => `${index === 0 ? first : indent}${line}`.trimEnd())
}

const escapeCell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s+/g, " ")

/** A Markdown pipe table whose every line fits `width` (the widest columns are cut first). */
export const pipeTable = (columns: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<TableCell>>, width = markdownWidth): Array<string> => {
  const texts = [columns.map(escapeCell), ...rows.map((row) => columns.map((_, index) => escapeCell(cellText(row[index] ?? null))))]
  const widths = columns.map((_, index) => Math.max(3, ...texts.map((row) => row[index]!.length)))
  const total = () => widths.reduce((sum, w) => sum + w + 3, 1)
  while (total() > width) {
    const widest = widths.indexOf(Math.max(...widths))
    if (widths[widest]! <= 3) break
    widths[widest]!--
  }
  const numeric = columns.map((_, index) => rows.length > 0 && rows.every((row) => typeof row[index] === "number" || row[index] === null))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((cell, index) => {
      const text = cutText(cell, widths[index]!)
      return numeric[index] ? text.padStart(widths[index]!) : text.padEnd(widths[index]!)
    }).join(" | ")} |`
  const rule = `|${widths.map((w, index) => (numeric[index] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`
  return [line(texts[0]!), rule, ...texts.slice(1).map(line)].map((text) => cutText(text, width))
}

const blocks = "▁▂▃▄▅▆▇█"

/** A one-line sparkline of `values` (`null` as a space), at most `width` characters (evenly resampled). */
export const sparkline = (values: ReadonlyArray<number | null>, width = 40): string => {
  const picked = values.length <= width ? values : Array.from({ length: width }, (_, index) => values[Math.round((index * (values.length - 1)) / (width - 1))]!)
  const finite = picked.filter((value): value is number => value !== null)
  const low = Math.min(...finite)
  const high = Math.max(...finite)
  return picked.map((value) => value === null ? " " : blocks[high === low ? 3 : Math.round(((value - low) / (high - low)) * (blocks.length - 1))]!).join("")
}
