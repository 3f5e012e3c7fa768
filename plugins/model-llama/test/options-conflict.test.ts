import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { LlamaResourceOptions } from "../src/index.ts"

describe("llama/hf options", () => {
  it("refuses both path and builtin for one model (validate catches it, exit 2, instead of a run-time failure)", () => {
    expect(() => Schema.decodeUnknownSync(LlamaResourceOptions)({ path: "/models/x", builtin: "speaker" })).toThrow(/either `path` .* or `builtin` .* not both/)
    expect(Schema.decodeUnknownSync(LlamaResourceOptions)({ builtin: "speaker" })).toEqual({ builtin: "speaker" })
  })
})
