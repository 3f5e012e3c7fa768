/** Reading recipe files, and listing a recipe's plugins while its stages are still wrong. */
import { Effect, Result } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { formatRecipeErrors, loadRecipePlugins } from "@refine-af/core"
import { fixturesDir, loadInvalid } from "./support.ts"

describe("reading recipes", () => {
  it("reports a missing file as a recipe problem with a fix, not a crash", async () => {
    const error = await loadInvalid("valid/no-such-recipe.yaml")
    expect(formatRecipeErrors(error)).toBe(
      "valid/no-such-recipe.yaml:1:1 error: cannot read the recipe: ENOENT — check the path (`refine-af recipes ls` lists the stock recipes)"
    )
  })

  it("refuses a recipe over the size cap before parsing it (a 50 MB recipe once took 1.9 GB)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-big-recipe-"))
    const file = path.join(dir, "big.yaml")
    fs.writeFileSync(file, "name: big\nstages: {}\n" + `# ${"x".repeat(1022)}\n`.repeat(1100))
    const error = await loadInvalid(file)
    expect(error.problems).toHaveLength(1)
    expect(error.problems[0]!.message).toBe("the recipe is 1.1 MiB; recipes are limited to 1 MiB")
    expect(error.problems[0]!.fix).toContain("put it in files")
  })

  it("says a folder is not a recipe file", async () => {
    const error = await loadInvalid("malformed")
    expect(error.problems[0]!.message).toContain("names a folder, not a file")
  })

  it("shows files outside the cwd by their absolute path", async () => {
    const file = path.join(fixturesDir, "malformed/stages-empty.yaml")
    const error = await loadInvalid(file, { cwd: path.join(fixturesDir, "plugins") })
    expect(error.problems[0]!.file).toBe(file)
  })
})

describe("loadRecipePlugins", () => {
  it("loads the listed plugins even when the stages have problems", async () => {
    const plugins = await Effect.runPromise(loadRecipePlugins("malformed/many-problems.yaml", { cwd: fixturesDir }))
    expect(plugins.map((plugin) => plugin.manifest.name)).toEqual(["text"])
  })

  it("fails with the plugin problems of the recipe", async () => {
    const result = await Effect.runPromise(Effect.result(loadRecipePlugins("malformed/unsafe-plugin-urls.yaml", { cwd: fixturesDir })))
    expect(Result.isFailure(result) && result.failure.problems.map((problem) => problem.line)).toEqual([6, 7, 8])
  })
})
