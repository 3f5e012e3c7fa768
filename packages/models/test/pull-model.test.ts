/**
 * `pullModel` against a local mock of the Hub: complete pulls, resumed
 * interrupted downloads (Range requests), corrupted downloads caught by the
 * hash, gated repositories, no network, a disk too small, unknown repos.
 */
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { PULL_RECORD, pullModel, type PullEvent } from "../src/index.ts"
import { startMockHub } from "@refine-af/testing"

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff))
const files = {
  "config.json": Buffer.from(JSON.stringify({ model_type: "llama", hidden_size: 8 })),
  "model.safetensors": bytes(300_000, 1),
  "sub/tokenizer.json": Buffer.from(JSON.stringify({ model: { type: "BPE" } }))
}
let hub: Awaited<ReturnType<typeof startMockHub>>
const dirs: Array<string> = []
const temp = () => {
  const dir = mkdtempSync(nodePath.join(tmpdir(), "refine-af-pull-"))
  dirs.push(dir)
  return dir
}
beforeAll(async () => {
  hub = await startMockHub({
    "acme/tiny": { files, lfs: ["model.safetensors"] },
    "acme/gated": { files: { "config.json": files["config.json"] }, lfs: [], token: "hf_good" }
  })
})
afterAll(async () => {
  await hub.close()
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }))
})
afterEach(() => {
  hub.faults.interrupt.clear()
  hub.faults.corrupt.clear()
  hub.seen.length = 0
})

const pull = (dir: string, extra: Partial<Parameters<typeof pullModel>[0]> = {}) =>
  Effect.runPromise(pullModel({ repo: "acme/tiny", dir, endpoint: hub.url, token: "", ...extra }))
const pullError = (dir: string, extra: Partial<Parameters<typeof pullModel>[0]> = {}) =>
  Effect.runPromise(Effect.flip(pullModel({ repo: "acme/tiny", dir, endpoint: hub.url, token: "", ...extra })))
const expectSameFiles = (dir: string) => {
  for (const [path, content] of Object.entries(files)) expect(readFileSync(nodePath.join(dir, path)).equals(content)).toBe(true)
}

describe("models pull", () => {
  it("downloads every file, records their hashes, and skips them on a second pull", async () => {
    const dir = temp()
    const result = await pull(dir)
    expect(result).toMatchObject({ files: 3, downloaded: 3, skipped: 0 })
    expectSameFiles(dir)
    const record = JSON.parse(readFileSync(nodePath.join(dir, PULL_RECORD), "utf8"))
    expect(record.files["model.safetensors"]).toEqual({ size: 300_000, kind: "sha256", hex: createHash("sha256").update(files["model.safetensors"]).digest("hex") })
    hub.seen.length = 0
    const again = await pull(dir)
    expect(again).toMatchObject({ downloaded: 0, skipped: 3 })
    expect(hub.seen.filter((r) => r.url.includes("/resolve/"))).toEqual([])
  })

  it("keeps an interrupted download and resumes it with a Range request", async () => {
    const dir = temp()
    hub.faults.interrupt.set("model.safetensors", 100_000)
    const error = await pullError(dir, { retries: 0 })
    expect(error._tag).toBe("HubDownloadFailed")
    expect(error.message).toMatch(/broke off|ended early/)
    expect(error.fix).toMatch(/resume/)
    const part = nodePath.join(dir, "model.safetensors.part")
    const kept = readFileSync(part).length
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThan(300_000)

    hub.seen.length = 0
    const events: Array<PullEvent> = []
    const result = await pull(dir, { retries: 0, onEvent: (e) => events.push(e) })
    expect(result.downloaded).toBeGreaterThanOrEqual(1)
    expect(hub.seen.find((r) => r.url.endsWith("/model.safetensors"))?.range).toBe(`bytes=${kept}-`)
    expect(events.find((e) => e.type === "file" && e.path === "model.safetensors")).toMatchObject({ status: "downloaded", resumedFrom: kept })
    expect(existsSync(part)).toBe(false)
    expectSameFiles(dir)
  })

  it("resumes automatically within one pull when retries allow", async () => {
    const dir = temp()
    hub.faults.interrupt.set("model.safetensors", 50_000)
    await pull(dir)
    expectSameFiles(dir)
    expect(hub.seen.filter((r) => r.url.endsWith("/model.safetensors")).map((r) => r.range)).toEqual([undefined, "bytes=50000-"])
  })

  it("deletes a corrupted download (hash mismatch) and fetches it afresh on the next attempt", async () => {
    const dir = temp()
    hub.faults.corrupt.add("model.safetensors")
    const error = await pullError(dir, { retries: 0 })
    expect(error._tag).toBe("DownloadCorrupt")
    expect(error.message).toMatch(/sha256/)
    expect(existsSync(nodePath.join(dir, "model.safetensors"))).toBe(false)
    expect(existsSync(nodePath.join(dir, "model.safetensors.part"))).toBe(false)
    await pull(dir, { retries: 0 })
    expectSameFiles(dir)

    const other = temp()
    hub.faults.corrupt.add("config.json") // a non-LFS file: checked by its git blob id
    await pull(other) // default retries: fixed within the same pull
    expectSameFiles(other)
    expect(hub.seen.filter((r) => r.url.endsWith("/config.json")).length).toBeGreaterThanOrEqual(2)
  })

  it("names the gated-repo fix on 401/403 and succeeds with the right token from HF_TOKEN", async () => {
    const dir = temp()
    const noToken = await pullError(dir, { repo: "acme/gated" })
    expect(noToken).toMatchObject({ _tag: "HubAccessDenied", status: 401 })
    expect(noToken.fix).toMatch(/HF_TOKEN/)
    const wrong = await pullError(dir, { repo: "acme/gated", token: "hf_bad" })
    expect(wrong).toMatchObject({ _tag: "HubAccessDenied", status: 403 })
    const previous = process.env["HF_TOKEN"]
    process.env["HF_TOKEN"] = "hf_good"
    try {
      await Effect.runPromise(pullModel({ repo: "acme/gated", dir, endpoint: hub.url }))
    } finally {
      if (previous === undefined) delete process.env["HF_TOKEN"]
      else process.env["HF_TOKEN"] = previous
    }
    expect(readFileSync(nodePath.join(dir, "config.json")).equals(files["config.json"])).toBe(true)
    expect(hub.seen.filter((r) => r.url.includes("/resolve/")).every((r) => r.auth === "Bearer hf_good")).toBe(true)
  })

  it("fails clearly when the Hub cannot be reached, the repo does not exist, or the disk is too small", async () => {
    const offline = await pullError(temp(), { endpoint: "http://127.0.0.1:9" })
    expect(offline._tag).toBe("HubUnreachable")
    expect(offline.fix).toMatch(/network/)
    const missing = await pullError(temp(), { repo: "acme/nope" })
    expect(missing._tag).toBe("HubNotFound")
    const dir = temp()
    const full = await pullError(dir, { freeBytes: async () => 1000 })
    expect(full).toMatchObject({ _tag: "DiskTooSmall", available: 1000 })
    expect((full as { needed: number }).needed).toBe(Object.values(files).reduce((n, b) => n + b.length, 0))
    expect(full.fix).toMatch(/--dir/)
    expect(hub.seen.filter((r) => r.url.includes("/resolve/"))).toEqual([])
  })
})
