/** What counts as a plugin manifest. */
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { defineResource, defineStage, LanguageModel, manifestProblems } from "@refine-af/core"

const stage = defineStage({
  role: "transform",
  description: "d",
  options: Schema.Struct({ width: Schema.Number }),
  inputs: { records: { description: "in" } },
  run: () => Effect.void
})
const resource = defineResource({
  description: "d",
  provides: LanguageModel,
  options: Schema.Struct({}),
  make: () => Effect.die("not made")
})
const importer = defineStage({ role: "transform", description: "d", options: Schema.Struct({ stageDir: Schema.String }), run: () => Effect.void })
const comparison = defineStage({
  role: "evaluator",
  description: "d",
  compares: { evaluations: ["stage"], importer: "importer" },
  options: Schema.Struct({}),
  inputs: { baseline: { description: "b" }, candidates: { description: "c", list: true } },
  run: () => Effect.void
})
const manifest = (components: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name: "demo", version: "1.0.0", components, ...extra })

describe("manifestProblems", () => {
  it("accepts a manifest built with definePlugin / defineStage / defineResource", () => {
    expect(manifestProblems(manifest({ stage, resource }))).toEqual([])
  })

  it("accepts a comparison stage whose evaluations and importer are stages of the plugin", () => {
    expect(manifestProblems(manifest({ stage, importer, comparison }))).toEqual([])
  })

  it.each<[string, unknown, string]>([
    ["not an object", "demo", "not a plugin manifest object"],
    ["an upper-case name", manifest({}, { name: "Demo" }), "\"name\" must be a lowercase name"],
    ["no version", { name: "demo", components: {} }, "\"version\" must be a string"],
    ["no components", { name: "demo", version: "1" }, "\"components\" must be an object"],
    ["a component without kind", manifest({ x: { ...stage, kind: undefined } }), "\"kind\" must be \"stage\" or \"resource\""],
    ["a stage without run", manifest({ x: { ...stage, run: undefined } }), "stage components need a \"run\" function"],
    ["a stage with a bad role", manifest({ x: { ...stage, role: "painter" } }), "\"role\" must be one of"],
    ["options that are not a Schema", manifest({ x: { ...stage, options: { width: "number" } } }), "\"options\" must be an Effect Schema"],
    ["a resource without provides", manifest({ x: { ...resource, provides: "LanguageModel" } }), "\"provides\" must be a service key"],
    ["a resource without make", manifest({ x: { ...resource, make: undefined } }), "resource components need a \"make\" function"],
    ["a slot that is not a service key", manifest({ x: { ...stage, uses: { model: "LanguageModel" } } }), "\"uses\" must map slot names to service keys"],
    ["a port that is also an option", manifest({ x: { ...stage, inputs: { width: { description: "w" } } } }), "key \"width\" is both an input port and an option"],
    ["a slot named _component_", manifest({ x: { ...stage, uses: { _component_: LanguageModel } } }), "key \"_component_\" is both the component id and a resource slot"],
    ["a component name with a slash", manifest({ "a/b": stage }), "names may use letters, digits"],
    ["a resource with a list port", manifest({ x: { ...resource, inputs: { adapters: { description: "a", list: true } } } }), "list input ports (\"list: true\") are for stage components"],
    ["a comparison of a missing evaluation", manifest({ stage, importer, comparison: { ...comparison, compares: { evaluations: ["nope"], importer: "importer" } } }), "evaluation \"nope\" is not a stage component of this plugin"],
    ["a comparison of nothing", manifest({ stage, importer, comparison: { ...comparison, compares: { evaluations: [], importer: "importer" } } }), "\"compares\" must be { evaluations"],
    ["a comparison whose importer is a resource", manifest({ stage, resource, comparison: { ...comparison, compares: { evaluations: ["stage"], importer: "resource" } } }), "importer \"resource\" is not a stage component"],
    ["a comparison whose importer takes no stageDir", manifest({ stage, comparison: { ...comparison, compares: { evaluations: ["stage"], importer: "stage" } } }), "needs a \"stageDir\" option"],
    ["a comparison without a list port candidates", manifest({ stage, importer, comparison: { ...comparison, inputs: { baseline: { description: "b" }, candidates: { description: "c" } } } }), "needs a list input port \"candidates\""],
    ["a comparison without a baseline port", manifest({ stage, importer, comparison: { ...comparison, inputs: { candidates: { description: "c", list: true } } } }), "needs a single input port \"baseline\""]
  ])("rejects %s", (_, value, message) => {
    const problems = manifestProblems(value)
    expect(problems.some((problem) => problem.includes(message)), problems.join("\n")).toBe(true)
  })
})
