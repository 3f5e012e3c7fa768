/**
 * `refine-af serve` as a user runs it: the built-in tiny model of a recipe
 * served on loopback; OpenAI requests (JSON, SSE, errors), concurrent
 * requests, and SIGTERM while requests are in flight (they finish; the process
 * exits after releasing the model); the process that started it dying
 * (`npx`'s npm and shell, killed by SIGTERM) stops it the same way.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { describe, expect, it } from "vitest"
import { binPath, repoRoot, startCli, tempDir } from "./cli.ts"

const post = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The base URL serve prints once it listens (180 s to start; fails if the process exits first). */
const servingAt = async (output: () => string, child: ChildProcess): Promise<string> => {
  const deadline = Date.now() + 180_000
  for (;;) {
    const match = /at (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(output())
    if (match) return match[1]!
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`serve did not start: ${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe("refine-af serve", () => {
  it("serves a recipe's model over the OpenAI API and drains on SIGTERM", async () => {
    const serving = startCli(["serve", "recipes/examples/openai/serve-tiny.yaml", "--resource", "policy", "--port", "0"], { REFINE_AF_MODELS: tempDir("serve-models") })
    let output = ""
    serving.child.stdout!.on("data", (chunk) => (output += chunk))
    serving.child.stderr!.on("data", (chunk) => (output += chunk))
    try {
      const base = await servingAt(() => output, serving.child)
      expect(((await (await fetch(`${base}/models`)).json()) as { data: Array<{ id: string }> }).data[0]!.id).toBe("policy")

      const completion = (await (await post(base, "/completions", { model: "policy", prompt: "Hello", max_tokens: 4, logprobs: 1, seed: 3, temperature: 0.8 })).json()) as { choices: Array<{ logprobs: { token_logprobs: Array<number> } }>; usage: { completion_tokens: number } }
      expect(completion.usage.completion_tokens).toBe(4)
      expect(completion.choices[0]!.logprobs.token_logprobs).toHaveLength(4)
      const again = (await (await post(base, "/completions", { model: "policy", prompt: "Hello", max_tokens: 4, logprobs: 1, seed: 3, temperature: 0.8 })).json()) as typeof completion
      expect(again.choices).toEqual(completion.choices)

      const unknown = await post(base, "/completions", { model: "gpt-4", prompt: "x" })
      expect(unknown.status).toBe(404)
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("model_not_found")

      const stream = await (await post(base, "/chat/completions", { model: "policy", messages: [{ role: "user", content: "Hi" }], max_tokens: 3, stream: true })).text()
      expect(stream.trimEnd().endsWith("data: [DONE]")).toBe(true)

      // Eight concurrent requests; SIGTERM arrives while they run: every one still completes.
      let answered = 0
      const inFlight = Array.from({ length: 8 }, (_, i) =>
        post(base, "/completions", { model: "policy", prompt: `Story ${i}`, max_tokens: 24, temperature: 0 }).then(async (r) => {
          answered += 1
          return { status: r.status, body: (await r.json()) as { usage?: { completion_tokens: number } } }
        })
      )
      // SIGTERM once the server has accepted all eight (a connection it has not accepted yet is not in flight):
      // those it holds plus those already answered (on a loaded machine the first may finish before the last arrives).
      const health = base.replace(/\/v1$/, "/health")
      const heldBy = Date.now() + 60_000
      for (;;) {
        const outstanding = ((await (await fetch(health)).json()) as { outstanding: number }).outstanding
        if (answered === 8 || outstanding >= 8 - answered) break
        if (Date.now() > heldBy) throw new Error(`the server held ${outstanding} requests with ${answered} answered after 60 s: ${output}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      serving.child.kill("SIGTERM")
      const answers = await Promise.all(inFlight)
      expect(answers.map((a) => a.status)).toEqual(new Array(8).fill(200))
      expect(answers.every((a) => a.body.usage!.completion_tokens === 24)).toBe(true)
      const result = await serving.done
      expect(result.stderr).toContain("in-flight requests finished")
      expect(result.code).toBe(130)
    } finally {
      // A failed expectation must not leave the server running (vitest would wait for it).
      if (serving.child.exitCode === null && serving.child.signalCode === null) serving.child.kill("SIGKILL")
    }
  }, 300_000) // its own deadlines (180 s to start, 60 s to hold the requests) name what was slow; the suite's 60 s would not

  // Like npx: a parent (here a shell) that starts the CLI and waits; SIGKILL on the parent re-parents the CLI.
  const orphaned = async (env: Record<string, string>, check: (pid: number, base: string, output: () => string) => Promise<void>) => {
    const parent = spawn("sh", ["-c", `"${process.execPath}" "${binPath}" serve recipes/examples/openai/serve-tiny.yaml --resource policy --port 0 & echo "pid:$!"; wait`], {
      cwd: repoRoot,
      env: { ...process.env, npm_command: "", npm_lifecycle_script: "", REFINE_AF_DEBUG: "", REFINE_AF_MODELS: tempDir("serve-orphan-models"), ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    parent.stdout!.on("data", (chunk) => (output += chunk))
    parent.stderr!.on("data", (chunk) => (output += chunk))
    let pid = 0
    try {
      const base = await servingAt(() => output, parent)
      pid = Number(/pid:(\d+)/.exec(output)![1])
      expect((await fetch(`${base}/models`)).status).toBe(200)
      parent.kill("SIGKILL")
      await check(pid, base, () => output)
    } finally {
      if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL")
      if (parent.exitCode === null && parent.signalCode === null) parent.kill("SIGKILL")
    }
  }

  it("started by npm (npx refine-af …), stops when npm dies, as for SIGTERM: the port is freed", async () => {
    // What npx sets in the environment of the command it runs.
    await orphaned({ npm_command: "exec", npm_lifecycle_script: "'refine-af'" }, async (pid, base, output) => {
      const gone = Date.now() + 30_000
      while (alive(pid) && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 100))
      expect(alive(pid), output()).toBe(false)
      expect(output()).toContain("npm (npx, npm exec or npm run), which started refine-af, has exited")
      expect(output()).toContain("refine-af serve: stopped (in-flight requests finished)")
      await expect(fetch(`${base}/models`)).rejects.toThrow()
    })
  }, 300_000)

  it.each([
    ["not by npm", {}],
    ["by a script npm runs, which backgrounds it and exits while npm goes on", { npm_command: "run-script", npm_lifecycle_script: "./start-server.sh && vitest run" }]
  ])("started %s, keeps serving when its parent dies", async (_, env: Record<string, string>) => {
    await orphaned(env, async (pid, base, output) => {
      await new Promise((resolve) => setTimeout(resolve, 3000))
      expect(alive(pid), output()).toBe(true)
      expect((await fetch(`${base}/models`)).status).toBe(200)
      expect(output()).not.toContain("has exited")
    })
  }, 300_000)
})
