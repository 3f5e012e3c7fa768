import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { readRunManifest, runRecipe } from "../../src/index.ts"
import { counterStage, makeRecipe, tempDir } from "./fixtures.ts"

const failureOf = async (runDir: string) => {
  const exit = await Effect.runPromiseExit(readRunManifest(runDir))
  return Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error : undefined
}

describe("reading manifest.json back", () => {
  it("decodes a manifest the engine wrote, and refuses null or wrong types with the field named", async () => {
    const recipe = makeRecipe({ stages: { numbers: { component: counterStage, options: { count: 3 } } } })
    const { runDir } = await Effect.runPromise(runRecipe(recipe, { runsDir: tempDir("runs"), cacheDir: tempDir("cache") }))
    expect((await Effect.runPromise(readRunManifest(runDir))).stages["numbers"]?.status).toBe("completed")

    const file = path.join(runDir, "manifest.json")
    const original = JSON.parse(fs.readFileSync(file, "utf8"))

    fs.writeFileSync(file, "null")
    const nullError = await failureOf(runDir)
    expect(nullError?._tag).toBe("RunDirInvalid")
    expect(nullError?.message).toContain(`${file} is not a valid run manifest`)
    expect((nullError as { fix?: string } | undefined)?.fix).toContain("restore")

    fs.writeFileSync(file, JSON.stringify({ ...original, stages: { numbers: { ...original.stages.numbers, status: 7 } }, attempts: "many" }))
    const typeError = await failureOf(runDir)
    expect(typeError?._tag).toBe("RunDirInvalid")
    expect(typeError?.message).toContain("stages.numbers.status")
    expect(typeError?.message).toContain("attempts")
  })
})
