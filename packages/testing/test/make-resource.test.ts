/** `makeResource`: a resource component made as a run makes it (options decoded, events kept), its service used in the test's scope. */
import { Context, Effect, Exit, Schema } from "effect"
import { defineResource, Scorer, type ScorerService } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { makeResource } from "../src/index.ts"

const keywords = defineResource({
  description: "The share of `keywords` an output mentions, 0 to 1, as a Scorer.",
  provides: Scorer,
  options: Schema.Struct({
    keywords: Schema.Array(Schema.String).annotate({ description: "Words a good output mentions." }),
    caseSensitive: Schema.Boolean.annotate({ description: "Match case." }).pipe(Schema.withDecodingDefaultKey(Effect.succeed(false)))
  }),
  make: (ctx) =>
    Effect.gen(function* () {
      yield* ctx.events.warn(`${ctx.name}: made with ${ctx.options.keywords.length} keywords`)
      return {
        name: ctx.name,
        score: (samples) =>
          Effect.succeed(samples.map((sample) => {
            const text = ctx.options.caseSensitive ? sample.output : sample.output.toLowerCase()
            const hits = ctx.options.keywords.filter((word) => text.includes(ctx.options.caseSensitive ? word : word.toLowerCase())).length
            return { value: hits / ctx.options.keywords.length, parts: { hits } }
          }))
      } satisfies ScorerService
    })
})

describe("makeResource", () => {
  it("makes the resource from options as a recipe writes them (a default filled in) and hands over its service and events", async () => {
    const { scores, events } = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
      const { service, events } = yield* makeResource(keywords, { options: { keywords: ["Apple", "pear"] }, name: "kw" })
      const scores = yield* Context.get(service, Scorer).score([{ instruction: "i", input: "", output: "An apple and a PEAR." }, { instruction: "i", input: "", output: "Plums." }])
      return { scores, events }
    })))
    expect(scores).toEqual([{ value: 1, parts: { hits: 2 } }, { value: 0, parts: { hits: 0 } }])
    expect(events).toEqual([{ type: "warn", data: { message: "kw: made with 2 keywords" } }])
  })

  it("refuses options the resource's Schema refuses, naming them", async () => {
    const exit = await Effect.runPromiseExit(Effect.scoped(makeResource(keywords, { options: { keywords: ["a"], colour: "red" } as never })))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toMatch(/colour/)
  })
})
