/**
 * End to end: `refine-af models pull` and `refine-af data pull superni` in a
 * child process against a local mock of the Hub (HF_ENDPOINT) and of GitHub's
 * raw host (--base-url): exit codes, what reaches stdout/stderr, the files.
 */
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { startMockHub } from "@refine-af/testing"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const here = path.dirname(fileURLToPath(import.meta.url))
const entry = path.resolve(here, "../src/main.ts")
// The child runs in a scratch folder, where the bare name "tsx" does not resolve.
const tsx = import.meta.resolve("tsx")
const scratch = mkdtempSync(path.join(tmpdir(), "refine-af-pull-cli-"))
const weights = Buffer.alloc(70_000, 7)
let hub: Awaited<ReturnType<typeof startMockHub>>

beforeAll(async () => {
  hub = await startMockHub(
    {
      "acme/tiny": { files: { "config.json": Buffer.from("{\"model_type\":\"llama\"}"), "model.safetensors": weights }, lfs: ["model.safetensors"] },
      "acme/gated": { files: { "config.json": Buffer.from("{}") }, lfs: [], token: "hf_ok" }
    },
    {
      "allenai/natural-instructions/master/splits/default/test_tasks.txt": Buffer.from("task1_a\n"),
      "allenai/natural-instructions/master/tasks/task1_a.json": Buffer.from(JSON.stringify({ Definition: ["Say yes."], Categories: ["X"], "Positive Examples": [], Instances: [{ id: "1", input: "q", output: ["yes"] }] }))
    }
  )
})
afterAll(async () => {
  await hub.close()
  rmSync(scratch, { recursive: true, force: true })
})

// The mock server runs in this process, so the child must not block the event loop: spawn, not spawnSync.
const refineAf = (env: Record<string, string>, ...args: Array<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", tsx, entry, ...args], { cwd: scratch, env: { ...process.env, HF_TOKEN: "", ...env } })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })
const stackTrace = /^\s+at .+:\d+:\d+\)?$/m
const slow = { timeout: 120_000 }

describe("refine-af models pull / data pull", () => {
  // Each child process costs seconds on a busy machine: resume, skip and token cases are covered by @refine-af/models' tests.
  it("pulls a model folder and says where it is", slow, async () => {
    const dir = path.join(scratch, "tiny")
    const first = await refineAf({ HF_ENDPOINT: hub.url }, "models", "pull", "acme/tiny", "--dir", dir)
    expect(first.stderr).toBe("")
    expect(first.code).toBe(0)
    expect(first.stdout).toContain(`model folder: ${dir}`)
    expect(readFileSync(path.join(dir, "model.safetensors")).equals(weights)).toBe(true)
    expect(first.stdout).toContain("2 downloaded, 0 already present")
  })

  it("exits 1 with the fix for a gated repo and for no network, without a stack trace", slow, async () => {
    const gated = await refineAf({ HF_ENDPOINT: hub.url }, "models", "pull", "acme/gated", "--dir", path.join(scratch, "gated"))
    expect(gated.code).toBe(1)
    expect(gated.stderr).toMatch(/error: access to acme\/gated was refused \(HTTP 401\)/)
    expect(gated.stderr).toMatch(/fix: .*HF_TOKEN/)
    expect(gated.stderr).not.toMatch(stackTrace)
    const offline = await refineAf({ HF_ENDPOINT: "http://127.0.0.1:9" }, "models", "pull", "acme/tiny", "--dir", path.join(scratch, "offline"))
    expect(offline.code).toBe(1)
    expect(offline.stderr).toMatch(/error: cannot reach http:\/\/127\.0\.0\.1:9/)
    expect(offline.stderr).not.toMatch(stackTrace)
    // A name that is not owner/name is a usage error, before any request.
    const noSlash = await refineAf({ HF_ENDPOINT: "http://127.0.0.1:9" }, "models", "pull", "tiny", "--dir", path.join(scratch, "noslash"))
    expect(noSlash.code).toBe(2)
    expect(noSlash.stderr).toContain("error: \"tiny\" is not a Hugging Face repository name")
    expect(noSlash.stderr).not.toContain("cannot reach")
  })

  it("pulls the SuperNI split into the tasks/ + splits/ layout", slow, async () => {
    const dir = path.join(scratch, "superni")
    const result = await refineAf({}, "data", "pull", "superni", "--dir", dir, "--base-url", `${hub.url}/allenai/natural-instructions`)
    expect(result.stderr).toBe("")
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("1 tasks")
    expect(existsSync(path.join(dir, "tasks/task1_a.json"))).toBe(true)
    expect(readFileSync(path.join(dir, "splits/default/test_tasks.txt"), "utf8")).toBe("task1_a\n")
  })
})
