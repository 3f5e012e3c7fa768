/**
 * The run report's HTML in headless Chromium: the page renders (not blank) and its SVG curves
 * are drawn (pixels of the curve colour, absent from a report without curves). Skips with a
 * reason when Chromium is not installed.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { writeRunReport } from "@refine-af/core"
import { decodePng, findChromium, pixelStats, screenshotHtml } from "@refine-af/testing"
import { syntheticRun } from "./synthetic-run.ts"

/** Pixels within a small distance of the curves' blue (#2563eb). */
const curvePixels = (pngFile: string): number => {
  const image = decodePng(fs.readFileSync(pngFile))
  let count = 0
  for (let pixel = 0; pixel < image.width * image.height; pixel++) {
    const base = pixel * image.channels
    const [r, g, b] = [image.pixels[base]!, image.pixels[base + 1]!, image.pixels[base + 2]!]
    if (Math.abs(r - 37) + Math.abs(g - 99) + Math.abs(b - 235) < 60) count++
  }
  return count
}

const chromium = findChromium()
if (chromium === undefined) console.log("run report screenshot test skipped: no chromium on PATH (apt-get install -y chromium)")

describe("run report in a browser", () => {
  it.skipIf(chromium === undefined)("renders a non-blank page with its SVG curves drawn", { timeout: 300_000 }, () => {
    const withCurves = syntheticRun()
    const without = syntheticRun({ withMaterial: false })
    const shots = [withCurves, without].map(({ runDir, manifest }) => {
      const { html } = writeRunReport(runDir, manifest)
      const png = path.join(runDir, "report.png")
      screenshotHtml(chromium!, html, png)
      return { png, stats: pixelStats(decodePng(fs.readFileSync(png))), blue: curvePixels(png) }
    })
    console.log(`run report screenshots: ${shots.map((shot) => `${shot.png} ${JSON.stringify({ ...shot.stats, curvePixels: shot.blue })}`).join("; ")}`)
    const [curves, plain] = shots
    expect(curves!.stats.variance).toBeGreaterThan(50)
    expect(curves!.stats.inkShare).toBeGreaterThan(0.02)
    // Three charts of 5 points (lines 2 px wide, dots): hundreds of curve-blue pixels.
    expect(curves!.blue).toBeGreaterThan(300)
    expect(plain!.blue).toBeLessThan(20)
    expect(plain!.stats.inkShare).toBeGreaterThan(0.005)
  })
})
