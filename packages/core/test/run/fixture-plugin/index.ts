/**
 * Test-only plugin "counting": one deterministic, resumable generator, so the
 * run engine can be tested through the real recipe loader (resumeRunDir).
 */
import { Effect, Schema } from "effect"
import { definePlugin, defineStage } from "@refine-af/core"

export default definePlugin({
  name: "counting",
  version: "1.0.0",
  components: {
    numbers: defineStage({
      role: "generator",
      description: "Emits `count` records { n }, sleeping `delay_ms` before each.",
      deterministic: true,
      options: Schema.Struct({ count: Schema.Int, delay_ms: Schema.Number }),
      run: (ctx) =>
        Effect.gen(function*() {
          for (let n = ctx.output.resumedCount; n < ctx.options.count; n++) {
            yield* Effect.sleep(ctx.options.delay_ms)
            yield* ctx.output.append([{ n }])
          }
        })
    })
  }
})
