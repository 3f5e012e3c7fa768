import { Cause, Exit } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { RecipeInvalid, RecordStreamError, RunDirInvalid, StageError } from "@refine-af/core"
import { ListenFailed } from "@refine-af/openai"
import { ExitCode, outcomeOf } from "../src/index.ts"

describe("outcomeOf (exit codes and messages)", () => {
  afterEach(() => {
    delete process.env["REFINE_AF_DEBUG"]
  })

  it("0 on success, 130 on interruption", () => {
    expect(outcomeOf(Exit.succeed(undefined))).toEqual({ code: ExitCode.ok })
    expect(outcomeOf(Exit.failCause(Cause.interrupt()))).toEqual({ code: ExitCode.interrupted })
  })

  it("2 for recipe and run-directory errors, with every problem and the fix", () => {
    const invalid = new RecipeInvalid({
      file: "r.yaml",
      problems: [{ file: "r.yaml", line: 3, column: 5, message: "unknown component demo/nope", fix: "use demo/lines" }]
    })
    const recipe = outcomeOf(Exit.fail(invalid))
    expect(recipe.code).toBe(2)
    expect(recipe.message).toContain("r.yaml:3:5")
    expect(recipe.message).toContain("use demo/lines")

    const runDir = outcomeOf(Exit.fail(new RunDirInvalid({ dir: "x", message: "x is not a run directory", fix: "pass runs/<id>" })))
    expect(runDir).toEqual({ code: 2, message: "error: x is not a run directory\n  fix: pass runs/<id>" })
  })

  it("2 when serve cannot listen (a busy port), with the port and the fix", () => {
    const busy = new ListenFailed({ code: "EADDRINUSE", host: "127.0.0.1", port: 8000, message: "port 8000 is already in use on 127.0.0.1", fix: "pass --port with a free port" })
    expect(outcomeOf(Exit.fail(busy))).toEqual({ code: 2, message: "error: port 8000 is already in use on 127.0.0.1\n  fix: pass --port with a free port" })
  })

  it("1 for runtime failures, naming the stage and the fix, without a stack trace", () => {
    const stage = outcomeOf(Exit.fail(new StageError({ stage: "gen", message: "model file missing", fix: "download it" })))
    expect(stage).toEqual({ code: 1, message: 'error in stage "gen": model file missing\n  fix: download it' })
    const resource = outcomeOf(Exit.fail(new StageError({ stage: "resource:compute", message: "cuda is not installed", fix: "install it" })))
    expect(resource).toEqual({ code: 1, message: 'error in resource "compute": cuda is not installed\n  fix: install it' })
    const io = outcomeOf(Exit.fail(new RecordStreamError({ path: "a.jsonl", message: "a.jsonl:4: corrupt record" })))
    expect(io).toEqual({ code: 1, message: "error: a.jsonl:4: corrupt record" })
  })

  it("defects are 1 with a hint; the stack only with REFINE_AF_DEBUG=1", () => {
    const defect = Exit.die(new Error("boom"))
    const plain = outcomeOf(defect)
    expect(plain.code).toBe(1)
    expect(plain.message).toContain("boom")
    expect(plain.message).toContain("REFINE_AF_DEBUG=1")
    expect(plain.message).not.toMatch(/\n\s+at /)
    process.env["REFINE_AF_DEBUG"] = "1"
    expect(outcomeOf(defect).message).toMatch(/\n\s+at /)
  })
})
