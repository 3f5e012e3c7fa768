/**
 * API keys of `openai/lm` come from environment variables named in the
 * recipe and are written nowhere: a real run against a loopback server that
 * demands the key, then a run whose server rejects the key and echoes it in
 * its error message. Neither the run folders, the cache, the events, stdout nor
 * stderr may contain the key; the server must have received it.
 */
import * as fs from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runCli, tempDir } from "./cli.ts"

const key = `sk-test-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`
let server: Server
let url = ""
const authorizations: Array<string | undefined> = []
let accept = true

beforeAll(async () => {
  server = createServer((request, response) => {
    let raw = ""
    request.on("data", (chunk) => (raw += chunk))
    request.on("end", () => {
      authorizations.push(request.headers.authorization)
      if (!accept || request.headers.authorization !== `Bearer ${key}`) {
        response.writeHead(401, { "content-type": "application/json" })
        return response.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${request.headers.authorization?.slice(7)}`, type: "invalid_request_error" } }))
      }
      const body = JSON.parse(raw) as { model: string }
      response.writeHead(200, { "content-type": "application/json" })
      response.end(JSON.stringify({ choices: [{ index: 0, text: " Describe the water cycle in three short sentences for a child.\n2. Name two colors", finish_reason: "stop" }], model: body.model, usage: { prompt_tokens: 10, completion_tokens: 12, total_tokens: 22 } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const writeRecipe = (dir: string) => {
  const file = path.join(dir, "recipe.yaml")
  fs.writeFileSync(file, [
    "name: openai-secrets",
    "seed: 1",
    "plugins: [\"@refine-af/lm-openai\", \"@refine-af/generator-self-instruct\"]",
    "resources:",
    "  policy:",
    "    _component_: openai/lm",
    "    model: tiny",
    `    endpoints: [{ url: "${url}" }]`,
    "    api_key_env: REFINE_AF_TEST_OPENAI_KEY",
    "    retries: { max_attempts: 2, base_delay_ms: 10 }",
    "stages:",
    "  instructions:",
    "    _component_: self-instruct/bootstrap",
    "    model: policy",
    "    target: 2",
    "    batchSize: 2",
    "    maxSteps: 2",
    "    sampling: { maxNewTokens: 32 }",
    ""
  ].join("\n"))
  return file
}

const everyFile = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    return entry.isDirectory() ? everyFile(full) : [full]
  })

const expectNoKey = (dirs: ReadonlyArray<string>, outputs: ReadonlyArray<string>) => {
  const files = dirs.flatMap(everyFile)
  expect(files.length).toBeGreaterThan(2)
  for (const file of files) expect(fs.readFileSync(file, "latin1").includes(key), file).toBe(false)
  for (const output of outputs) expect(output.includes(key)).toBe(false)
}

describe("openai/lm API keys", () => {
  it("are sent to the server but never written to the run folder, cache, events or output", async () => {
    const dir = tempDir("openai-secrets")
    const recipe = writeRecipe(dir)
    const env = { REFINE_AF_TEST_OPENAI_KEY: key, REFINE_AF_CACHE: path.join(dir, "cache") }
    const ok = await runCli(["run", recipe, "--runs-dir", path.join(dir, "runs")], env)
    expect(ok.code, ok.stderr).toBe(0)
    expect(authorizations.length).toBeGreaterThan(0)
    expect(authorizations.every((a) => a === `Bearer ${key}`)).toBe(true)
    const runDir = path.join(dir, "runs", fs.readdirSync(path.join(dir, "runs"))[0]!)
    expect(fs.readFileSync(path.join(runDir, "events.jsonl"), "utf8")).toContain("instructions")
    expectNoKey([path.join(dir, "runs"), path.join(dir, "cache")], [ok.stdout, ok.stderr])

    accept = false
    const rejected = await runCli(["run", recipe, "--runs-dir", path.join(dir, "runs-rejected"), "--no-cache"], env)
    expect(rejected.code).toBe(1)
    expect(rejected.stderr).toContain("Incorrect API key provided")
    expect(rejected.stderr).toContain("[redacted]")
    expectNoKey([path.join(dir, "runs-rejected")], [rejected.stdout, rejected.stderr])

    const missing = await runCli(["run", recipe, "--runs-dir", path.join(dir, "runs-missing"), "--no-cache"], { REFINE_AF_TEST_OPENAI_KEY: "", REFINE_AF_CACHE: path.join(dir, "cache") })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("REFINE_AF_TEST_OPENAI_KEY")
  })
})
