/**
 * Benchmark: time to bootstrap N instructions with `self-instruct/bootstrap`,
 * excluding model time (a fast synthetic model; its own time is measured and
 * subtracted). Compares, in the same run, at 1k and 10k instructions:
 * - paper: top-10 neighbours and mean similarity recorded per instruction;
 * - neighbours only (meanSimilarity: false);
 * - decision only (neighbours: 0, meanSimilarity: false): the pool may prune;
 * - paper on 2 worker threads (10k only).
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

interface Config {
  readonly name: string
  readonly filters: { readonly neighbours: number; readonly meanSimilarity: boolean }
  readonly workers: number
}

const PAPER: Config = { name: "paper (top-10 + mean)", filters: { neighbours: 10, meanSimilarity: true }, workers: 0 }
const NEIGHBOURS_ONLY: Config = { name: "top-10, no mean", filters: { neighbours: 10, meanSimilarity: false }, workers: 0 }
const DECISION_ONLY: Config = { name: "decision only", filters: { neighbours: 0, meanSimilarity: false }, workers: 0 }
const PAPER_WORKERS: Config = { ...PAPER, name: "paper, 2 workers", workers: 2 }

interface Row {
  readonly case: string
  readonly config: string
  readonly target: number
  readonly generated: number
  readonly steps: number
  readonly candidates: number
  readonly acceptanceRate: number
  readonly totalMs: number
  readonly modelMs: number
  readonly pipelineMs: number
  readonly instructionsPerSecond: number
}

const runCase = async (target: number, config: Config): Promise<Row> => {
  const model = syntheticBootstrapModel()
  const options = Schema.decodeUnknownSync(BootstrapOptions)({ target, batchSize: 5, filters: config.filters, workers: config.workers, maxIdleSteps: 200 })
  const { ctx, output } = memoryContext({ options, uses: { model }, seed: 2026 })
  const started = performance.now()
  const exit = await Effect.runPromiseExit(Effect.scoped(bootstrapStage.run(ctx)))
  const totalMs = performance.now() - started
  if (Exit.isFailure(exit)) throw new Error(String(exit.cause))
  const metrics = (exit.value as { metrics: Record<string, number> }).metrics
  const pipelineMs = totalMs - model.modelMs
  return {
    case: `${target} instructions, ${config.name}`,
    config: config.name,
    target,
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
await runCase(300, PAPER)
const rows: Array<Row> = []
for (const [target, configs] of [
  [1000, [PAPER, NEIGHBOURS_ONLY, DECISION_ONLY]],
  [10000, [PAPER, NEIGHBOURS_ONLY, DECISION_ONLY, PAPER_WORKERS]]
] as const) {
  for (const config of configs) {
    rows.push(await runCase(target, config))
    const row = rows.at(-1)!
    console.log(`${row.case}: ${(row.pipelineMs / 1000).toFixed(2)} s`)
  }
}

/** Pipeline time of the paper configuration divided by `config`'s, at `target`. */
const speedupVsPaper = (target: number, config: Config) =>
  rows.find((row) => row.target === target && row.config === PAPER.name)!.pipelineMs /
  rows.find((row) => row.target === target && row.config === config.name)!.pipelineMs
const speedups = Object.fromEntries(
  rows.filter((row) => row.config !== PAPER.name).map((row) => [row.case, speedupVsPaper(row.target, { ...PAPER, name: row.config })])
)

console.log("")
console.log("| case | generated | steps | candidates | acceptance | pipeline s | model s | instr/s |")
console.log("|---|---|---|---|---|---|---|---|")
for (const row of rows) {
  console.log(
    `| ${row.case} | ${row.generated} | ${row.steps} | ${row.candidates} | ${(row.acceptanceRate * 100).toFixed(1)}% | ${(row.pipelineMs / 1000).toFixed(2)} | ${(row.modelMs / 1000).toFixed(2)} | ${row.instructionsPerSecond.toFixed(0)} |`
  )
}
console.log("\nspeed-up vs the paper configuration at the same size (pipeline time ratio):")
for (const [name, value] of Object.entries(speedups)) console.log(`  ${name}: ${value.toFixed(2)}x`)

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
      note: "time to bootstrap N instructions with self-instruct/bootstrap excluding model time (synthetic model, its time subtracted); batchSize 5, 7 items per reply (30% near-copies of shown items, 10% failing cheap filters), 46 bundled seeds; profile: >95% of pipeline time is inside RougePool scoring; speedupVsPaper = paper-config pipeline time / this row's, same size, same run",
      rows,
      speedupVsPaper: speedups
    },
    null,
    2
  ) + "\n"
)
console.log(`wrote ${out}`)
