import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { builtinSeedPath, fetchPinned, loadSeedTasks, parseSeedTasks, readSeedFile } from "../src/index.ts"

const failureOf = async <E>(effect: Effect.Effect<unknown, E>): Promise<E> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  if (!failure || failure._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return failure.error
}

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ id: "t1", name: "n", instruction: "Do it.", instances: [{ input: "", output: "done" }], is_classification: false, ...fields })

describe("seed reader", () => {
  it("reads the bundled seed set: ≥ 40 tasks, ~15% classification, 1-2 instances each", async () => {
    const tasks = await Effect.runPromise(readSeedFile(builtinSeedPath))
    expect(tasks.length).toBeGreaterThanOrEqual(40)
    const classification = tasks.filter((task) => task.is_classification).length / tasks.length
    expect(classification).toBeGreaterThan(0.1)
    expect(classification).toBeLessThan(0.2)
    for (const task of tasks) expect(task.instances.length).toBeGreaterThanOrEqual(1)
    for (const task of tasks) expect(task.instances.length).toBeLessThanOrEqual(2)
  })

  it("names file:line for invalid JSON", async () => {
    const error = await failureOf(parseSeedTasks(`${line({})}\n\n{not json`, "seeds.jsonl"))
    expect(error._tag).toBe("SeedLineInvalid")
    expect(error.message).toContain("seeds.jsonl:3")
    expect(error.message).toContain("not valid JSON")
  })

  it("lists every schema problem of a line", async () => {
    const error = await failureOf(parseSeedTasks(line({ instruction: 5, is_classification: "yes", instances: [{ input: "" }] }), "s.jsonl"))
    expect(error._tag).toBe("SeedLineInvalid")
    expect(error.message).toMatch(/s\.jsonl:1: .*instruction.*/)
    expect(error.message).toContain("is_classification")
    expect(error.message).toContain("output")
  })

  it("rejects duplicate ids and an empty file", async () => {
    const duplicate = await failureOf(parseSeedTasks(`${line({})}\n${line({})}`, "d.jsonl"))
    expect(duplicate.message).toContain("d.jsonl:2: duplicate id \"t1\" (first used on line 1)")
    const empty = await failureOf(parseSeedTasks("\n\n", "e.jsonl"))
    expect(empty._tag).toBe("SeedSetInvalid")
  })

  it("reports a missing file with its path", async () => {
    const error = await failureOf(readSeedFile("/nonexistent/seeds.jsonl"))
    expect(error._tag).toBe("SeedFileUnreadable")
    expect(error.message).toContain("/nonexistent/seeds.jsonl")
  })

  it("optionally parses the official 175-task file (parity with the format it defines)", async (context) => {
    const official = resolve(import.meta.dirname, "../../../../shared/data/self-instruct/seed_tasks.jsonl")
    if (!existsSync(official)) {
      console.log(`skipped: ${official} is absent`)
      context.skip()
    }
    const tasks = await Effect.runPromise(readSeedFile(official))
    expect(tasks).toHaveLength(175)
  })
})

describe("sha256-pinned download", () => {
  const body = `${line({ id: "remote_1" })}\n`
  const sha256 = createHash("sha256").update(body).digest("hex")
  let server: Server
  let base = ""
  let hits = 0
  beforeAll(async () => {
    server = createServer((request, response) => {
      hits++
      if (request.url === "/seeds.jsonl") response.end(body)
      else {
        response.statusCode = 404
        response.end("missing")
      }
    })
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((done) => server.close(() => done())))

  it("downloads once, verifies, caches under the hash, and reads the cache offline afterwards", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "si-cache-"))
    hits = 0
    const path = await Effect.runPromise(fetchPinned({ url: `${base}/seeds.jsonl`, sha256 }, cacheDir))
    expect(path).toBe(join(cacheDir, sha256))
    expect(readFileSync(path, "utf8")).toBe(body)
    const tasks = await Effect.runPromise(loadSeedTasks({ url: "http://127.0.0.1:1/unreachable", sha256 }, cacheDir))
    expect(tasks.map((task) => task.id)).toEqual(["remote_1"])
    expect(hits).toBe(1)
  })

  it("refuses a file whose sha256 differs from the pin and caches nothing", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "si-cache-"))
    const wrong = "0".repeat(64)
    const error = await failureOf(fetchPinned({ url: `${base}/seeds.jsonl`, sha256: wrong }, cacheDir))
    expect(error._tag).toBe("SeedChecksumMismatch")
    expect(error.message).toContain(sha256)
    expect(existsSync(join(cacheDir, wrong))).toBe(false)
  })

  it("re-downloads when the cached copy is corrupt", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "si-cache-"))
    writeFileSync(join(cacheDir, sha256), "tampered")
    hits = 0
    const path = await Effect.runPromise(fetchPinned({ url: `${base}/seeds.jsonl`, sha256 }, cacheDir))
    expect(readFileSync(path, "utf8")).toBe(body)
    expect(hits).toBe(1)
  })

  it("explains an HTTP error and an unreachable host", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "si-cache-"))
    const notFound = await failureOf(fetchPinned({ url: `${base}/other.jsonl`, sha256 }, cacheDir))
    expect(notFound._tag).toBe("SeedDownloadFailed")
    expect(notFound.message).toContain("HTTP 404")
    const offline = await failureOf(fetchPinned({ url: "http://127.0.0.1:1/seeds.jsonl", sha256 }, cacheDir))
    expect(offline._tag).toBe("SeedDownloadFailed")
    expect(offline.message).toContain("Fix:")
  })
})
