/**
 * Options that are each valid but do not go together are refused by `validate`, at the node,
 * with a message naming both (they used to validate and then run lopsided or pointless work):
 * PPO minibatches that do not split the rollouts evenly (updates of 3 and 1), a micro-batch
 * larger than its batch (no accumulation happened), and instruction filters no instruction can
 * pass (0 records).
 */
import { Effect, Result } from "effect"
import { loadRecipe } from "@refine-af/core"
import { describe, expect, it } from "vitest"
import { repoRoot } from "./cli.ts"

const problemsOf = async (recipe: string, overrides: ReadonlyArray<string>) => {
  const result = await Effect.runPromise(Effect.result(loadRecipe(recipe, { cwd: repoRoot, overrides })))
  return Result.isFailure(result) ? result.failure.problems.map((problem) => `${problem.line}:${problem.column} ${problem.message}`) : []
}

describe("options that do not go together", () => {
  it("ppo/train: miniBatchSize must divide batchSize and fit in it; microBatchSize must fit in a minibatch", async () => {
    expect(await problemsOf("recipes/examples/ppo.yaml", ["stages.ppo.miniBatchSize=3"])).toEqual([expect.stringContaining("miniBatchSize 3 does not divide batchSize 4 (the last minibatch would hold 1)")])
    expect(await problemsOf("recipes/examples/ppo.yaml", ["stages.ppo.miniBatchSize=8"])).toEqual([expect.stringContaining("miniBatchSize 8 is larger than batchSize 4")])
    expect(await problemsOf("recipes/examples/ppo.yaml", ["stages.ppo.miniBatchSize=2", "stages.ppo.microBatchSize=4"])).toEqual([expect.stringContaining("microBatchSize 4 is larger than miniBatchSize 2")])
    expect(await problemsOf("recipes/examples/ppo.yaml", ["stages.ppo.miniBatchSize=2", "stages.ppo.microBatchSize=1"])).toEqual([])
  })

  it("sft/lora: micro_batch_size must fit in batch_size", async () => {
    expect(await problemsOf("recipes/examples/sft.yaml", ["stages.sft.micro_batch_size=3"])).toEqual([expect.stringContaining("micro_batch_size 3 is larger than batch_size 2")])
    expect(await problemsOf("recipes/examples/sft.yaml", ["stages.sft.micro_batch_size=1"])).toEqual([])
  })

  it("rloo/train: scaleRewards (GRPO's) other than the default is refused; RLOO never scaled its rewards", async () => {
    const recipe = "tests/recipes/rloo-validate.yaml"
    expect(await problemsOf(recipe, ["stages.rloo.scaleRewards=batch"])).toEqual([expect.stringContaining("scaleRewards applies to grpo/train only")])
    expect(await problemsOf(recipe, ["stages.rloo.scaleRewards=false"])).toEqual([expect.stringContaining("scaleRewards applies to grpo/train only")])
    expect(await problemsOf(recipe, [])).toEqual([])
  })

  it("self-instruct/bootstrap: minWords above maxWords is refused once, without a type complaint", async () => {
    const problems = await problemsOf("recipes/quickstart.yaml", ["stages.instructions.filters.minWords=50", "stages.instructions.filters.maxWords=10"])
    expect(problems).toEqual([expect.stringContaining("option \"filters\": minWords 50 is above maxWords 10, so every instruction would be dropped")])
    expect(problems[0]).not.toContain("got a mapping")
  })
})
