import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const script = path.join(import.meta.dirname, "gpu-check.ts")

const runGpuCheck = (env: Record<string, string>) => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gpu-check-")), "result.json")
  const child = spawnSync(process.execPath, ["--import", "tsx", script, "--out", out], { encoding: "utf8", env: { ...process.env, ...env } })
  return { child, report: fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")) as Record<string, unknown> : undefined }
}

describe("tools/gpu-check on a machine without an NVIDIA GPU", () => {
  it("completes with exit 0 and a clear 'no GPU' result naming why", () => {
    const { child, report } = runGpuCheck({ REFINE_AF_NVIDIA_SMI: "/nonexistent/nvidia-smi" })
    expect(child.status, child.stderr).toBe(0)
    expect(child.stdout).toContain("no GPU: /nonexistent/nvidia-smi not found: no NVIDIA driver on this machine")
    expect(report).toMatchObject({ result: "no GPU", reason: "/nonexistent/nvidia-smi not found: no NVIDIA driver on this machine" })
    expect(report?.["loadAverage"]).toHaveLength(3)
  })

  it("reports a driver that lists no GPU (nvidia-smi failing) as 'no GPU' too", () => {
    const { child, report } = runGpuCheck({ REFINE_AF_NVIDIA_SMI: "false" })
    expect(child.status, child.stderr).toBe(0)
    expect(report).toMatchObject({ result: "no GPU", reason: expect.stringContaining("false failed (exit 1)") })
  })
})
