/** `--log-level debug` prints every run event (it used to print nothing more than the default). */
import { describe, expect, it } from "vitest"
import { runCli, tempDir } from "./cli.ts"

describe("--log-level", () => {
  it("debug prints each run event as a debug line; the default prints none", async () => {
    const args = ["run", "recipes/examples/demo.yaml", "--runs-dir", tempDir("log-level"), "--no-cache"]
    const debug = await runCli([...args, "--log-level", "debug"])
    expect(debug.code, debug.stderr).toBe(0)
    const lines = debug.stderr.split("\n").filter((line) => line.startsWith("debug "))
    const types = lines.map((line) => line.split(" ")[2])
    expect(types).toEqual(expect.arrayContaining(["run_start", "stage_start", "progress", "stage_end", "resource_made", "run_end"]))
    expect(lines.find((line) => line.includes(" stage_end "))).toMatch(/^debug \d\d:\d\d:\d\d\.\d{3} stage_end \{"stage":"lines","status":"completed","records":200,/)
    const quiet = await runCli(args)
    expect(quiet.code, quiet.stderr).toBe(0)
    expect(quiet.stderr).not.toMatch(/^debug /m)
  })
})
