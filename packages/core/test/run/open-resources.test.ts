/** `openResources`: a recipe's resources outside a run, in the caller's scope. */
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { openResources, runRecipe, type StageError } from "../../src/index.ts"
import { Speaker, Tally } from "../fixtures/plugins/multi/index.ts"
import { loadValid } from "../recipe/support.ts"
import { tempDir } from "./fixtures.ts"

const setup = async () => {
  const dir = tempDir("open")
  const log = path.join(dir, "makes.log")
  const recipe = await loadValid("valid/stage-fed.yaml", { overrides: [`resources.base.log=${log}`, `resources.tuned.log=${log}`] })
  return { dir, recipe, makes: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []) }
}

const failure = async <A>(effect: Effect.Effect<A, unknown>) => {
  const exit = await Effect.runPromiseExit(effect)
  if (!Exit.isFailure(exit)) throw new Error("expected a failure")
  return (exit.cause.reasons.find((reason) => reason._tag === "Fail") as { error: StageError }).error
}

describe("openResources", () => {
  it("makes a resource once and serves each of its services", async () => {
    const { recipe, makes } = await setup()
    const events: Array<string> = []
    const said = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const opened = yield* openResources(recipe, ["base"], { onEvent: (type) => events.push(type) })
      const speaker = yield* opened.get("base", Speaker)
      const tally = yield* opened.get("base", Tally)
      return [speaker.say("x"), speaker.say("y"), tally.spoken()] as const
    })))
    expect(said).toEqual(["> x", "> y", 2])
    expect(makes()).toEqual(["make base"])
    expect(events).toEqual(["resource_start", "resource_ready"])
  })

  it("says what is wrong: an unknown name, a service not provided, a stage output not available", async () => {
    const { recipe } = await setup()
    expect((await failure(Effect.scoped(openResources(recipe, ["bsae"])))).message).toContain("recipe \"stage-fed\" has no resource \"bsae\"; did you mean \"base\"?")
    const notFinished = await failure(Effect.scoped(Effect.gen(function*() {
      const opened = yield* openResources(recipe, ["tuned"], {})
      return yield* opened.get("tuned", Tally)
    })))
    expect(notFinished.message).toContain("is built from the output of stage \"train\" (port \"adapter\"), which has not finished")
  })

  it("opens a stage-fed resource from a run in which its stage completed", async () => {
    const { dir, recipe, makes } = await setup()
    const { runDir } = await Effect.runPromise(runRecipe(recipe, { runsDir: path.join(dir, "runs"), cacheDir: path.join(dir, "cache") }))
    const said = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const opened = yield* openResources(recipe, ["tuned"], { runDir })
      expect(opened.names).toEqual(["tuned"])
      const notTally = yield* Effect.flip(opened.get("tuned", Tally))
      expect(notTally.message).toBe("resource \"tuned\" does not provide fixture/Tally (it provides fixture/Speaker)")
      return (yield* opened.get("tuned", Speaker)).say("z")
    })))
    expect(said).toBe("[v1] > z")
    expect(makes()).toEqual(["make base", "make tuned v1", "make base", "make tuned v1"])
  })
})
