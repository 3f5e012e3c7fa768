/** What `serve` shows while it opens the model: readable lines, not raw event JSON. */
import { describe, expect, it } from "vitest"
import { resourceEventLine } from "../src/serve/open-model.ts"

describe("resourceEventLine", () => {
  it("shows a resource opening, ready (with its time) and its warnings; progress and metrics stay quiet", () => {
    expect(resourceEventLine("resource_start", { resource: "policy", component: "llama/hf", identity: "7c3fdd68" })).toBe("resource policy (llama/hf): opening")
    expect(resourceEventLine("resource_ready", { resource: "policy", durationMs: 1234 })).toBe("  policy: ready in 1.2s")
    expect(resourceEventLine("warning", { resource: "policy", message: "max_context was lowered to 512" })).toBe("warning [policy]: max_context was lowered to 512")
    expect(resourceEventLine("progress", { resource: "policy", done: 1, total: 2 })).toBeUndefined()
    expect(resourceEventLine("metric", { resource: "policy", name: "x", value: 1 })).toBeUndefined()
  })
})
