import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { withLiveCounts } from "../src/commands/inspect.ts"
import { printRunSummary } from "../src/run-summary.ts"
import type { RunManifest } from "@refine-af/core"
import { cliCommand } from "../src/invocation.ts"

const runningManifest = (): RunManifest => ({
  formatVersion: 1,
  runId: "demo-20260101-000000-abcd",
  name: "demo",
  recipeFile: "/r/demo.yaml",
  status: "running",
  seed: 1,
  core: { name: "@refine-af/core", version: "0.1.0" },
  plugins: [],
  node: process.version,
  hostname: os.hostname(),
  platform: "linux-x64",
  cacheDir: "/c",
  cacheEnabled: true,
  startedAt: "2026-01-01T00:00:00.000Z",
  attempts: [{ startedAt: "2026-01-01T00:00:00.000Z", status: "running" }],
  stages: {
    lines: { status: "completed", componentId: "demo/lines", version: "1", cacheKey: "k", records: 200 },
    upper: { status: "running", componentId: "demo/transform", version: "1", cacheKey: "k2" },
    later: { status: "pending", componentId: "demo/transform", version: "1", cacheKey: "" }
  },
  metrics: {}
})

describe("inspect on a run whose process was killed", () => {
  it("shows it as interrupted (no live process holds the lock), with the resume line", () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-killed-"))
    const shown = withLiveCounts(runDir, runningManifest())
    expect(shown.status).toBe("interrupted")
    expect(shown.stages["upper"]?.status).toBe("interrupted")
    expect(shown.stages["lines"]?.status).toBe("completed")
    // A stage that never started counts no records: "-", as the run's own report shows it, not 0.
    expect(shown.stages["later"]?.records).toBeUndefined()
    expect(printRunSummary(runDir, shown)).toContain(`continue with: ${cliCommand()} resume ${runDir}`)

    // A lock left by a dead process does not count either.
    fs.writeFileSync(path.join(runDir, ".lock"), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: os.hostname() }))
    expect(withLiveCounts(runDir, runningManifest()).status).toBe("interrupted")
  })

  it("keeps 'running' while a live process holds the lock", () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-live-"))
    fs.writeFileSync(path.join(runDir, ".lock"), JSON.stringify({ pid: process.ppid, hostname: os.hostname() }))
    const shown = withLiveCounts(runDir, runningManifest())
    expect(shown.status).toBe("running")
    expect(shown.stages["upper"]?.status).toBe("running")
  })
})
