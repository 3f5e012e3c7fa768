/**
 * Formatting helpers shared by the Markdown and HTML reports.
 */

/** Escapes text for HTML element content and attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** Escapes the characters that break a Markdown table cell. */
export const escapeMarkdownCell = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ")

/** A score with 2 decimals (reports show what a reader compares; the JSON keeps full precision). */
export const fixed2 = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : "n/a")

/** A signed difference with 2 decimals: `+1.25`, `-0.50`, `0.00`. */
export const signed2 = (value: number): string => {
  const text = fixed2(value)
  return value > 0 && text !== "0.00" ? `+${text}` : text === "-0.00" ? "0.00" : text
}

/** A percentage with one decimal. */
export const percent1 = (value: number): string => `${value.toFixed(1)}%`

/** Renders a Markdown table from a header row and body rows (cells are escaped). */
export const markdownTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  [header, header.map(() => "---"), ...rows].map((row) => `| ${row.map(escapeMarkdownCell).join(" | ")} |`).join("\n")

/** Renders an HTML table; `numeric` columns are right-aligned. */
export const htmlTable = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  numeric: ReadonlyArray<number> = []
): string => {
  const cell = (tag: "td" | "th", text: string, column: number) =>
    `<${tag}${numeric.includes(column) ? " class=\"num\"" : ""}>${escapeHtml(text)}</${tag}>`
  return [
    "<table>",
    `<thead><tr>${header.map((text, column) => cell("th", text, column)).join("")}</tr></thead>`,
    `<tbody>${rows.map((row) => `<tr>${row.map((text, column) => cell("td", text, column)).join("")}</tr>`).join("\n")}</tbody>`,
    "</table>"
  ].join("\n")
}
