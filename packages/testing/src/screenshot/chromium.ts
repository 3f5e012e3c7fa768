/**
 * Renders an HTML report in headless Chromium (Debian's `chromium` package)
 * and checks the screenshot is not blank. Used by the report tests (SuperNI
 * reports, the run report) and runnable by hand:
 *
 *   npx tsx packages/testing/src/screenshot/chromium.ts <report.html> [out.png]
 *
 * Install the browser with `apt-get update && apt-get install -y chromium`.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { decodePng, pixelStats, type PixelStats } from "./png.ts"

/** The Chromium binary on PATH, or undefined. */
export const findChromium = (): string | undefined => {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" })
    if (found.status === 0 && found.stdout.trim() !== "") return found.stdout.trim()
  }
  return undefined
}

/** Screenshots `htmlFile` into `pngFile` (1200×1600) with every network and background feature off. */
export const screenshotHtml = (chromium: string, htmlFile: string, pngFile: string): void => {
  const profile = mkdtempSync(path.join(tmpdir(), "refine-af-chromium-"))
  try {
    execFileSync(chromium, [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      `--screenshot=${pngFile}`,
      "--window-size=1200,1600",
      pathToFileURL(path.resolve(htmlFile)).href
    ], { stdio: "pipe", timeout: 90_000 })
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
  if (!existsSync(pngFile)) throw new Error(`chromium wrote no screenshot to ${pngFile}`)
}

/** Pixel statistics of a PNG file. */
export const pngFileStats = (pngFile: string): PixelStats => pixelStats(decodePng(readFileSync(pngFile)))

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href
if (isMain) {
  const [htmlFile, pngFile = "report.png"] = process.argv.slice(2)
  const chromium = findChromium()
  if (htmlFile === undefined || chromium === undefined) {
    console.error(htmlFile === undefined ? "usage: screenshot.ts <report.html> [out.png]" : "chromium not found: apt-get install -y chromium")
    process.exit(2)
  }
  screenshotHtml(chromium, htmlFile, pngFile)
  const stats = pngFileStats(pngFile)
  console.log(`${pngFile}: ${JSON.stringify(stats)}`)
  process.exit(stats.variance > 50 && stats.inkShare > 0.01 ? 0 : 1)
}
