/**
 * Bad input to `run`, `resume` and `serve`, as a user meets it through the real binary: one
 * message naming the problem and the fix, exit 2, no stack trace, and no wait for work
 * (a model load, a run) that the input makes useless.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { createServer, type AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const scratch = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `refine-af-bad-input-${prefix}-`))
const stackTrace = /\n\s+at .+:\d+:\d+/

const refineAf = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, "packages/cli/bin/refine-af.js"), ...args], {
      cwd: repoRoot,
      env: { ...process.env, REFINE_AF_DEBUG: "", REFINE_AF_CACHE: scratch("cache"), ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** Each child process starts tsx and loads the recipe's plugins: seconds on a busy machine. */
const spawnTimeout = { timeout: 120_000 }

describe("bad input to run, resume and serve", () => {
  it("run --runs-dir <a file>: exit 2 naming the file and the fix, before any run folder is made", spawnTimeout, async () => {
    const file = path.join(scratch("file"), "README.md")
    fs.writeFileSync(file, "# not a folder\n")
    const result = await refineAf(["run", "recipes/examples/demo.yaml", "--runs-dir", file])
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toBe(`error: --runs-dir ${file} is a file, not a folder\n  fix: pass a folder (or a path to create) as --runs-dir, or move ${file} out of the way\n`)
    expect(result.stdout).toBe("")
    expect(fs.readFileSync(file, "utf8")).toBe("# not a folder\n")
  })

  it("resume <completed run> key=value: refused with exit 2 and the `refine-af run` line that applies it", spawnTimeout, async () => {
    const runsDir = scratch("runs")
    const cache = scratch("cache")
    const ran = await refineAf(["run", "recipes/examples/demo.yaml", "stages.lines.count=20", "--runs-dir", runsDir], { REFINE_AF_CACHE: cache })
    expect(ran.code, ran.stderr).toBe(0)
    const runDir = path.join(runsDir, fs.readdirSync(runsDir)[0]!)
    const manifestBefore = fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")

    const refused = await refineAf(["resume", runDir, "stages.lines.count=10"], { REFINE_AF_CACHE: cache })
    expect(refused.code, refused.stderr).toBe(2)
    expect(refused.stderr).toContain(`error: ${runDir} is already complete: resume only continues unfinished stages, so the override stages.lines.count=10 would not take effect`)
    expect(refused.stderr).toContain(`fix: to change options, start a new run with the override: refine-af run ${path.join(repoRoot, "recipes/examples/demo.yaml")} stages.lines.count=10 — stages the override leaves unchanged come from the cache`)
    expect(refused.stderr).not.toMatch(stackTrace)
    expect(fs.readFileSync(path.join(runDir, "manifest.json"), "utf8")).toBe(manifestBefore)

    // Without overrides a completed run is still "nothing to do", exit 0.
    const nothing = await refineAf(["resume", runDir], { REFINE_AF_CACHE: cache })
    expect(nothing.code, nothing.stderr).toBe(0)
    expect(nothing.stdout).toContain("is already complete; nothing to do.")
  })

  it("serve --port <busy>: exit 2 naming the port and the fix, before the model loads", spawnTimeout, async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve))
    const port = (holder.address() as AddressInfo).port
    try {
      const result = await refineAf(["serve", "recipes/examples/openai/serve-tiny.yaml", "--resource", "policy", "--port", String(port)], { REFINE_AF_MODELS: scratch("models") })
      expect(result.code, result.stderr).toBe(2)
      expect(result.stderr).toBe(
        `error: port ${port} is already in use on 127.0.0.1 (another server is listening there)\n  fix: pass --port with a free port (or --port 0 to pick one), or stop the other process\n`
      )
      // No resource was opened: the user did not wait for the model.
      expect(result.stderr).not.toContain("opening")
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
  })
})
