/** `pullSuperNi` against a mock of GitHub's raw file host: layout, resume, corrupt task files, bad split lists. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pullSuperNi } from "../src/index.ts"
import { startMockHub } from "@refine-af/testing"

const task = (name: string) => Buffer.from(JSON.stringify({
  Definition: [`Definition of ${name}.`], Categories: ["Textual Entailment"], "Positive Examples": [],
  Instances: Array.from({ length: 200 }, (_, i) => ({ id: `${name}-${i}`, input: `input ${i} `.repeat(20), output: ["Yes"] }))
}))
const names = ["task001_alpha", "task002_beta", "task003_gamma"]
const prefix = "allenai/natural-instructions/master"
const raw: Record<string, Buffer> = {
  [`${prefix}/splits/default/test_tasks.txt`]: Buffer.from(`${names.join("\n")}\n`),
  ...Object.fromEntries(names.map((n) => [`${prefix}/tasks/${n}.json`, task(n)])),
  "bad/natural-instructions/master/splits/default/test_tasks.txt": Buffer.from("task009_x\n"),
  "bad/natural-instructions/master/tasks/task009_x.json": Buffer.from("<html>rate limited</html>"),
  "empty/natural-instructions/master/splits/default/test_tasks.txt": Buffer.from("\n")
}
let hub: Awaited<ReturnType<typeof startMockHub>>
const dirs: Array<string> = []
const temp = () => {
  const dir = mkdtempSync(nodePath.join(tmpdir(), "refine-af-superni-"))
  dirs.push(dir)
  return dir
}
beforeAll(async () => {
  hub = await startMockHub({}, raw)
})
afterAll(async () => {
  await hub.close()
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))
})

const pull = (dir: string, base = `${hub.url}/allenai/natural-instructions`, retries = 0) => pullSuperNi({ dir, baseUrl: base, retries })

describe("data pull superni", () => {
  it("writes the split list and every listed task in the natural-instructions layout, resuming an interrupted file", async () => {
    const dir = temp()
    hub.faults.interrupt.set(`${prefix}/tasks/task002_beta.json`, 1000)
    const failed = await Effect.runPromise(Effect.flip(pull(dir)))
    expect(failed._tag).toBe("HubDownloadFailed")
    expect(existsSync(nodePath.join(dir, "tasks/task001_alpha.json"))).toBe(true)
    expect(readFileSync(nodePath.join(dir, "tasks/task002_beta.json.part")).length).toBe(1000)
    hub.seen.length = 0
    const result = await Effect.runPromise(pull(dir))
    expect(result).toMatchObject({ tasks: 3, downloaded: 2 })
    expect(hub.seen.find((r) => r.url.endsWith("task002_beta.json"))?.range).toBe("bytes=1000-")
    expect(hub.seen.some((r) => r.url.endsWith("task001_alpha.json"))).toBe(false)
    for (const n of names) expect(readFileSync(nodePath.join(result.tasksDir, `${n}.json`)).equals(raw[`${prefix}/tasks/${n}.json`]!)).toBe(true)
    expect(readFileSync(result.splitFile, "utf8").trim().split("\n")).toEqual(names)
  })

  it("rejects a task file that is not a task (deleted, typed error) and an empty split list", async () => {
    const dir = temp()
    const corrupt = await Effect.runPromise(Effect.flip(pull(dir, `${hub.url}/bad/natural-instructions`)))
    expect(corrupt._tag).toBe("DownloadCorrupt")
    expect(existsSync(nodePath.join(dir, "tasks/task009_x.json"))).toBe(false)
    const empty = await Effect.runPromise(Effect.flip(pull(temp(), `${hub.url}/empty/natural-instructions`)))
    expect(empty._tag).toBe("HubDownloadFailed")
    expect(empty.message).toMatch(/empty/)
    const offline = await Effect.runPromise(Effect.flip(pull(temp(), "http://127.0.0.1:9/x")))
    expect(offline._tag).toBe("HubUnreachable")
    // The way to another server is this command's own (HF_ENDPOINT is the Hub's, not GitHub's).
    expect(offline._tag === "HubUnreachable" && offline.fix).toContain("--base-url")
    expect(offline._tag === "HubUnreachable" && offline.fix).not.toContain("HF_ENDPOINT")
  })
})
