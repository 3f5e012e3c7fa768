/** CLI overrides `key.path=value`: what they may change, and how bad ones are reported. */
import { describe, expect, it } from "vitest"
import { formatRecipeErrors } from "@refine-af/core"
import { loadInvalid, loadValid } from "./support.ts"

const recipe = "valid/full.yaml"

describe("overrides", () => {
  it("set seed, name, options (new and nested), ports and slots, parsing values as YAML", async () => {
    const resolved = await loadValid(recipe, {
      overrides: [
        "seed=11",
        "name=renamed",
        "stages.seeds.repeat=3",
        "stages.seeds.lines=[x, y, z]",
        "stages.gen.sampling.temperature=0",
        "stages.gen.sampling.stop.0=END",
        "stages.merged.right=seeds",
        "resources.judge.weight=2.5"
      ]
    })
    expect(resolved.seed).toBe(11)
    expect(resolved.name).toBe("renamed")
    expect(resolved.stages["seeds"]!.options).toEqual({ lines: ["x", "y", "z"], repeat: 3 })
    expect(resolved.stages["gen"]!.options).toEqual({ max_instructions: 10, sampling: { temperature: 0, stop: ["END"] } })
    expect(resolved.stages["merged"]!.inputs).toEqual({ left: "gen", right: "seeds" })
    expect(resolved.resources["judge"]!.options).toEqual({ weight: 2.5 })
    expect((resolved.document["stages"] as Record<string, Record<string, unknown>>)["seeds"]!["repeat"]).toBe(3)
  })

  it("apply in order, the last one winning", async () => {
    const resolved = await loadValid(recipe, { overrides: ["seed=1", "seed=2"] })
    expect(resolved.seed).toBe(2)
  })

  it("reject paths outside stages/resources/seed/name, unknown names and keys, with did-you-mean", async () => {
    const error = await loadInvalid(recipe, {
      overrides: ["plugins.0=../plugins/throws", "stages.gne.lines=[]", "stages.gen.max_instrutions=3", "stage.gen.x=1", "seed.x=1", "stages.gen.sampling.tempratur=1"]
    })
    const lines = formatRecipeErrors(error).split("\n")
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^override "plugins\.0=\.\.\/plugins\/throws":1:1 error: cannot override "plugins"/),
      expect.stringMatching(/^override "stages\.gne\.lines=\[\]":1:1 error: no stage named "gne"; did you mean "gen"\?/),
      expect.stringMatching(/^override "stages\.gen\.max_instrutions=3":1:1 error: stage "gen" has no key "max_instrutions"; did you mean "max_instructions"\?/),
      expect.stringMatching(/^override "stage\.gen\.x=1":1:1 error: cannot override "stage"; did you mean "stages"\?/),
      expect.stringMatching(/^override "seed\.x=1":1:1 error: "seed" has no sub-keys/),
      expect.stringMatching(/^override "stages\.gen\.sampling\.tempratur=1":1:1 error: "stages\.gen\.sampling" has no key "tempratur"; did you mean "temperature"\?/)
    ]))
    expect(lines).toHaveLength(6)
  })

  it("report a bad value at its column in the override", async () => {
    const error = await loadInvalid(recipe, { overrides: ["stages.gen.max_instructions=-4"] })
    expect(error.problems).toHaveLength(1)
    // "stages.gen.max_instructions=" is 28 characters: the value starts at column 29.
    expect(error.problems[0]).toMatchObject({ file: "override \"stages.gen.max_instructions=-4\"", line: 1, column: 29 })
    expect(error.problems[0]!.message).toContain("Expected a value greater than 0")
  })

  it("refuse YAML tags in values, and text without `=`", async () => {
    const error = await loadInvalid(recipe, { overrides: ["stages.seeds.lines=!!js/function x", "seed"] })
    expect(error.problems.map((problem) => [problem.file, problem.column])).toEqual([
      ["override \"seed\"", 1],
      ["override \"stages.seeds.lines=!!js/function x\"", 20]
    ])
    expect(error.problems[0]!.message).toContain("an override must look like key.path=value")
    expect(error.problems[1]!.message).toContain("YAML tag \"!!js/function\" is not allowed")
  })

  it("can make a valid recipe invalid, pointing at the override", async () => {
    const error = await loadInvalid(recipe, { overrides: ["stages.upper.records=nowhere"] })
    expect(formatRecipeErrors(error)).toMatch(/^override "stages\.upper\.records=nowhere":1:22 error: stage "upper" \(text\/uppercase\): input port "records" names stage "nowhere"/)
  })

  describe("into an option block the recipe leaves at its defaults", () => {
    const defaults = "valid/defaults.yaml"

    it("create the missing mappings, and later overrides add keys to them", async () => {
      const resolved = await loadValid(defaults, { overrides: ["stages.gen.sampling.temperature=0.25", "stages.gen.sampling.stop=[END]"] })
      expect(resolved.stages["gen"]!.options).toEqual({ max_instructions: 4, sampling: { temperature: 0.25, stop: ["END"] } })
    })

    it("still suggest the right key for a typo below a missing block", async () => {
      const error = await loadInvalid(defaults, { overrides: ["stages.gen.sampling.tempratur=1", "stages.gen.samplng.temperature=1"] })
      expect(formatRecipeErrors(error).split("\n")).toEqual([
        expect.stringMatching(/^override "stages\.gen\.sampling\.tempratur=1":1:1 error: "stages\.gen\.sampling" has no key "tempratur"; did you mean "temperature"\?/),
        expect.stringMatching(/^override "stages\.gen\.samplng\.temperature=1":1:1 error: stage "gen" has no key "samplng"; did you mean "sampling"\?/)
      ])
    })

    it("leave the Schema to judge the created block (a required key missing from it)", async () => {
      const error = await loadInvalid(defaults, { overrides: ["stages.gen.sampling.stop=[END]"] })
      expect(error.problems).toHaveLength(1)
      expect(error.problems[0]!.message).toContain("missing required option \"sampling.temperature\"")
    })

    it("create nothing when the value does not parse", async () => {
      const error = await loadInvalid(defaults, { overrides: ["stages.gen.sampling.temperature=[1"] })
      expect(error.problems).toHaveLength(1)
      expect(error.problems[0]!.file).toBe("override \"stages.gen.sampling.temperature=[1\"")
    })

    it("refuse to go below a scalar", async () => {
      const error = await loadInvalid(defaults, { overrides: ["stages.gen.max_instructions.x=1"] })
      expect(error.problems[0]!.message).toContain("\"stages.gen.max_instructions\" is not a mapping or list")
    })
  })
})
