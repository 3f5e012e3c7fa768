/**
 * Benchmark: time to bootstrap N instructions with `self-instruct/bootstrap`,
 * excluding model time (a fast synthetic model; its own time is measured and
 * subtracted). Compares, in the same run, the paper's configuration (mean
 * similarity recorded for every accepted instruction) with the novelty check
 * alone (meanSimilarity: false), at 1k and 10k instructions.
 *
 * Run: `npx tsx bench/bootstrap.ts` (from plugins/generator-self-instruct).
 * Writes bench-results/self-instruct-bootstrap.json at the repository root.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Exit, Schema } from "effect"
import { BootstrapOptions, bootstrapStage } from "../src/index.ts"
import { memoryContext } from "../test/support/memoryContext.ts"
import { syntheticBootstrapModel } from "./syntheticModel.ts"

interface Row {
  readonly case: string
  readonly target: number
  readonly meanSimilarity: boolean
  readonly generated: number
  readonly steps: number
  readonly candidates: number
  readonly acceptanceRate: number
  readonly totalMs: number
  readonly modelMs: number
  readonly pipelineMs: number
  readonly instructionsPerSecond: number
}

const runCase = async (target: number, meanSimilarity: boolean): Promise<Row> => {
  const model = syntheticBootstrapModel()
  const options = Schema.decodeUnknownSync(BootstrapOptions)({ target, batchSize: 5, filters: { meanSimilarity }, maxIdleSteps: 200 })
  const { ctx, output } = memoryContext({ options, uses: { model }, seed: 2026 })
  const started = performance.now()
  const exit = await Effect.runPromiseExit(Effect.scoped(bootstrapStage.run(ctx)))
  const totalMs = performance.now() - started
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  const metrics = (exit.value as { metrics: Record<string, number> }).metrics
  const pipelineMs = totalMs - model.modelMs
  return {
    case: `${target} instructions, ${meanSimilarity ? "with" : "without"} mean similarity`,
    target,
    meanSimilarity,
    generated: output.committed.length,
    steps: metrics["steps"]!,
    candidates: metrics["candidates"]!,
    acceptanceRate: metrics["acceptance_rate"]!,
    totalMs,
    modelMs: model.modelMs,
    pipelineMs,
    instructionsPerSecond: output.committed.length / (pipelineMs / 1000)
  }
}

// Warm-up so JIT compilation is not billed to the first measured case.
await runCase(300, true)
const rows: Array<Row> = []
for (const target of [1000, 10000]) {
  for (const meanSimilarity of [false, true]) {
    rows.push(await runCase(target, meanSimilarity))
    const row = rows.at(-1)!
    console.log(`${row.case}: ${(row.pipelineMs / 1000).toFixed(2)} s`)
  }
}

const ratio = (target: number) => {
  const without = rows.find((row) => row.target === target && !row.meanSimilarity)!
  const withMean = rows.find((row) => row.target === target && row.meanSimilarity)!
  return withMean.pipelineMs / without.pipelineMs
}

console.log("")
console.log("| case | generated | steps | candidates | acceptance | pipeline s | model s | instr/s |")
console.log("|---|---|---|---|---|---|---|---|")
for (const row of rows) {
  console.log(
    `| ${row.case} | ${row.generated} | ${row.steps} | ${row.candidates} | ${(row.acceptanceRate * 100).toFixed(1)}% | ${(row.pipelineMs / 1000).toFixed(2)} | ${(row.modelMs / 1000).toFixed(2)} | ${row.instructionsPerSecond.toFixed(0)} |`
  )
}
console.log(`\nmean-similarity cost (pipeline time with / without): 1k ${ratio(1000).toFixed(2)}x, 10k ${ratio(10000).toFixed(2)}x`)

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..")
const out = resolve(repoRoot, "bench-results/self-instruct-bootstrap.json")
mkdirSync(dirname(out), { recursive: true })
writeFileSync(
  out,
  JSON.stringify(
    {
      benchmark: "self-instruct-bootstrap",
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadAverage1m: loadavg()[0],
      note: "time to bootstrap N instructions with self-instruct/bootstrap excluding model time (synthetic model, its time subtracted); batchSize 5, 7 items per reply, 46 bundled seeds, RougePool on the main thread; profile: >95% of pipeline time is inside RougePool scoring; ratio = with / without per-instruction mean similarity",
      rows,
      ratioMeanSimilarity: { "1000": ratio(1000), "10000": ratio(10000) }
    },
    null,
    2
  ) + "\n"
)
console.log(`wrote ${out}`)
