import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { aggregateScores, compareAgainstBaseline, defaultCompareOptions, evaluationHtml, seededRandom, type PredictionRecord } from "../src/index.ts"
import { findChromium, pngFileStats, screenshotHtml } from "@refine-af/testing"

const categories = ["Textual Entailment", "Title Generation", "Word Analogy", "Data to Text", "Keyword Tagging", "Coreference Resolution"]

/** A synthetic run: 30 tasks × 10 instances, candidate better on most tasks. */
const synthetic = (shift: number, seed: number): Array<PredictionRecord> => {
  const random = seededRandom(seed)
  return Array.from({ length: 30 }, (_, task) =>
    Array.from({ length: 10 }, (_, instance) => {
      const rougeL = Math.min(1, Math.max(0, 0.3 + task / 60 + shift * (task % 4 === 0 ? -1 : 1) + (random.next() - 0.5) * 0.2))
      return {
        task: `task${String(task).padStart(3, "0")}_synthetic_<b>&_task`,
        category: categories[task % categories.length]!,
        id: `${task}-${instance}`,
        prediction: "p",
        references: ["r"],
        rougeL,
        exactMatch: rougeL > 0.6 ? 1 : 0
      }
    })
  ).flat()
}

const writeReports = async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "superni-report-"))
  const baseline = synthetic(0, 1)
  const { files } = await Effect.runPromise(
    compareAgainstBaseline({ name: "self-instruct", records: baseline }, [{ name: "rlaf", records: synthetic(0.1, 2) }], {
      ...defaultCompareOptions,
      resamples: 500
    })
  )
  writeFileSync(path.join(dir, "compare.html"), files["report.html"]!)
  writeFileSync(path.join(dir, "evaluate.html"), evaluationHtml({ stage: "eval", model: "tiny", encoding: "definition only" }, aggregateScores(baseline)))
  writeFileSync(path.join(dir, "blank.html"), "<!doctype html><html><body></body></html>")
  return { dir, compareHtml: files["report.html"]!, markdown: files["report.md"]! }
}

describe("HTML reports", () => {
  it("are self-contained: inline CSS and SVG, no scripts, no external references, escaped names", async () => {
    const { compareHtml } = await writeReports()
    expect(compareHtml).toContain("<style>")
    expect(compareHtml.match(/<svg /g)).toHaveLength(2)
    expect(compareHtml).not.toMatch(/<script|<link|<img|src=|url\(|@import/i)
    expect(compareHtml).not.toMatch(/href="(?!#)/)
    // Task names are escaped, never injected.
    expect(compareHtml).not.toContain("<b>&_task")
    expect(compareHtml).toContain("&lt;b&gt;&amp;_task")
    // One delta bar per task, plus two bars per category.
    expect(compareHtml.match(/<rect [^>]*><title>/g)).toHaveLength(30 + 2 * categories.length)
  })

  it("write a Markdown report whose tables escape pipes", async () => {
    const { markdown } = await writeReports()
    expect(markdown).toContain("# SuperNI paired comparison")
    expect(markdown).toContain("### Per task (sorted by difference)")
    const chromiumLessName = synthetic(0, 1).map((record) => ({ ...record, task: "a|b" }))
    const { files } = await Effect.runPromise(
      compareAgainstBaseline({ name: "x", records: chromiumLessName }, [{ name: "y", records: chromiumLessName }], { ...defaultCompareOptions, resamples: 10 })
    )
    expect(files["report.md"]).toContain("a\\|b")
  })

  const chromium = findChromium()
  if (chromium === undefined) console.log("chromium screenshot test skipped: no chromium on PATH (apt-get install -y chromium)")

  it.skipIf(chromium === undefined)("render in headless Chromium to a non-blank screenshot (a blank page is detected as blank)", async () => {
    const { dir } = await writeReports()
    const stats = Object.fromEntries(
      ["compare", "evaluate", "blank"].map((name) => {
        const png = path.join(dir, `${name}.png`)
        screenshotHtml(chromium!, path.join(dir, `${name}.html`), png)
        return [name, pngFileStats(png)]
      })
    )
    console.log(`screenshots in ${dir}: ${JSON.stringify(stats)}`)
    expect(stats["blank"]!.variance).toBeLessThan(1)
    expect(stats["blank"]!.inkShare).toBe(0)
    for (const name of ["compare", "evaluate"]) {
      expect(stats[name]!.variance).toBeGreaterThan(50)
      expect(stats[name]!.inkShare).toBeGreaterThan(0.02)
      // The SVG bars are coloured: a page without charts has (almost) no saturated pixels.
      expect(stats[name]!.colourShare).toBeGreaterThan(0.005)
    }
  }, 300_000)
})
