/**
 * Every fixture in fixtures/malformed declares, in its header, the problems
 * the loader must report: `# expect: <line>:<column> <text>` (parts of the
 * text separated by " … " must appear in that order). The loader must report
 * exactly those problems — no more, no fewer — one line each, in file order.
 */
import { readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { formatRecipeErrors } from "@refine-af/core"
import { fixturesDir, loadInvalid } from "./support.ts"

interface Expectation {
  readonly line: number
  readonly column: number
  readonly parts: ReadonlyArray<string>
}

const malformedDir = path.join(fixturesDir, "malformed")
const fixtures = readdirSync(malformedDir).filter((name) => name.endsWith(".yaml")).sort()

const expectationsOf = (file: string): Array<Expectation> =>
  readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line) => {
      const match = /^# expect: (\d+):(\d+) (.+)$/.exec(line)
      return match === null ? [] : [{ line: Number(match[1]), column: Number(match[2]), parts: match[3]!.split(" … ") }]
    })

const containsInOrder = (text: string, parts: ReadonlyArray<string>): boolean => {
  let from = 0
  for (const part of parts) {
    const at = text.indexOf(part, from)
    if (at < 0) return false
    from = at + part.length
  }
  return true
}

describe("malformed recipes", () => {
  it("has at least 30 fixtures, each declaring its expected problems", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30)
    for (const fixture of fixtures) expect(expectationsOf(path.join(malformedDir, fixture)), fixture).not.toHaveLength(0)
  })

  it.each(fixtures)("%s reports exactly the expected problems", async (fixture) => {
    const file = path.join(malformedDir, fixture)
    const error = await loadInvalid(file)
    const expected = expectationsOf(file)
    const shownFile = path.join("malformed", fixture)

    expect(error._tag).toBe("RecipeInvalid")
    expect(error.problems.map((problem) => `${problem.line}:${problem.column}`)).toEqual(
      expected.map((expectation) => `${expectation.line}:${expectation.column}`)
    )
    expected.forEach((expectation, index) => {
      const problem = error.problems[index]!
      expect(problem.file).toBe(shownFile)
      expect(containsInOrder(`${problem.message} — ${problem.fix ?? ""}`, expectation.parts), `${problem.message}\nshould contain ${expectation.parts.join(" … ")}`).toBe(true)
    })

    const lines = formatRecipeErrors(error).split("\n")
    expect(lines).toHaveLength(expected.length)
    lines.forEach((line, index) => {
      const { line: row, column } = expected[index]!
      expect(line.startsWith(`${shownFile}:${row}:${column} error: `), line).toBe(true)
      expect(line).not.toMatch(/\n|\bat .*\(.*:\d+:\d+\)/)
    })
  })
})

describe("every recipe problem names a concrete fix", () => {
  it.each(fixtures)("%s", async (fixture) => {
    const error = await loadInvalid(path.join(malformedDir, fixture))
    for (const problem of error.problems) expect(problem.fix, `${problem.line}:${problem.column} ${problem.message}`).toMatch(/\S{3}/)
  })
})

describe("hostile keys", () => {
  it("a __proto__ key never reaches Object.prototype", async () => {
    await loadInvalid(path.join(malformedDir, "proto-keys.yaml"), { overrides: ["stages.seeds.lines=[b]"] })
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()
  })
})
