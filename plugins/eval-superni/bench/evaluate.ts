/**
 * Benchmark: cost of evaluating 1,000 SuperNI instances with a fast scripted
 * model (model time ≈ 0, so this is the evaluator's own overhead: prompting,
 * scoring, records, aggregation, reports), next to scoring alone, and the
 * paired bootstrap at the benchmark's real size (119 tasks × 100 instances).
 *
 *   npx tsx plugins/eval-superni/bench/evaluate.ts
 *
 * Prints a table and writes bench-results/superni-evaluate.json at the repo root.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Schema } from "effect"
import {
  bundledTaskSet,
  compareRuns,
  EvaluateOptions,
  evaluateStage,
  makePromptEncoder,
  readTaskJsonl,
  scoreInstance,
  seededRandom,
  type PredictionRecord,
  type SuperNiTask
} from "../src/index.ts"
import { makeMemoryStage } from "../test/support/memoryContext.ts"
import { lastInput, scriptedModel } from "../test/support/scriptedModel.ts"

const repoRoot = path.resolve(import.meta.dirname, "../../..")

const time = async (run: () => Promise<unknown> | unknown, repeats = 3) => {
  const samples: Array<number> = []
  for (let repeat = 0; repeat < repeats; repeat++) {
    const start = performance.now()
    await run()
    samples.push(performance.now() - start)
  }
  return Math.min(...samples)
}

// 1,000 instances: the bundled tasks' instances cycled to 125 per task (realistic text lengths).
const bundled = await Effect.runPromise(readTaskJsonl({ file: bundledTaskSet, maxInstances: 100 }))
const tasks: Array<SuperNiTask> = bundled.map((task) => ({
  ...task,
  instances: Array.from({ length: 125 }, (_, index) => ({ ...task.instances[index % task.instances.length]!, id: `${task.name}-${index}` }))
}))
const instanceCount = tasks.reduce((sum, task) => sum + task.instances.length, 0)
const jsonlDir = path.join(os.tmpdir(), "superni-bench")
mkdirSync(jsonlDir, { recursive: true })
const jsonlFile = path.join(jsonlDir, "bench-1000.jsonl")
writeFileSync(
  jsonlFile,
  tasks.map((task) => JSON.stringify({
    Task: task.name,
    Definition: [task.definition],
    Categories: [task.category],
    "Positive Examples": task.positiveExamples,
    Instances: task.instances
  })).join("\n")
)

const echoModel = () => scriptedModel("echo", (prompt) => lastInput(prompt))
const stageMs = await time(async () => {
  const stage = makeMemoryStage({
    name: "eval",
    options: Schema.decodeUnknownSync(EvaluateOptions)({ tasks: jsonlFile, maxInstances: 125, batchSize: 16 }),
    uses: { model: echoModel() }
  })
  await Effect.runPromise(Effect.scoped(evaluateStage.run(stage.ctx)))
})

const pairs = tasks.flatMap((task) => task.instances.map((instance) => ({ prediction: instance.input, references: instance.output })))
const scoringMs = await time(() => {
  for (const pair of pairs) scoreInstance(pair.prediction, pair.references)
})
const encode = Effect.runSync(makePromptEncoder({ positiveExamples: 2 }))
const promptMs = await time(() => {
  for (const task of tasks) for (const instance of task.instances) encode(task, instance)
})

// Paired bootstrap at the benchmark's size: 119 tasks × 100 instances.
const random = seededRandom(5)
const synthetic = (shift: number): Array<PredictionRecord> =>
  Array.from({ length: 119 }, (_, task) =>
    Array.from({ length: 100 }, (_, instance) => ({
      task: `task${task}`,
      category: "Title Generation",
      id: `${task}-${instance}`,
      prediction: "",
      references: [""],
      rougeL: Math.min(1, Math.max(0, 0.4 + shift + (random.next() - 0.5) * 0.6)),
      exactMatch: 0
    }))).flat()
const baseline = { name: "a", records: synthetic(0) }
const candidate = { name: "b", records: synthetic(0.03) }
const bootstrapMs = async (resampleInstances: boolean) =>
  time(() =>
    Effect.runPromise(compareRuns(baseline, candidate, {
      metric: "rougeL",
      resamples: 2000,
      seed: 1,
      confidence: 0.95,
      resampleInstances,
      tieTolerance: 1e-9
    })), 2)
const bootstrapTasksMs = await bootstrapMs(false)
const bootstrapInstancesMs = await bootstrapMs(true)

const rows = [
  { name: `evaluate stage, ${instanceCount} instances (echo model, batch 16, reports)`, ms: stageMs },
  { name: `scoring only (ROUGE-L stem + EM), ${instanceCount} instances`, ms: scoringMs },
  { name: `prompt encoding only (2 examples), ${instanceCount} instances`, ms: promptMs },
  { name: "compare 119×100, 2000 resamples (tasks)", ms: bootstrapTasksMs },
  { name: "compare 119×100, 2000 resamples (tasks + instances)", ms: bootstrapInstancesMs }
]
const ratios = {
  stageOverScoring: stageMs / scoringMs,
  instanceResamplingOverTaskResampling: bootstrapInstancesMs / bootstrapTasksMs
}
console.log("| benchmark | best of runs (ms) |\n| --- | ---: |")
for (const row of rows) console.log(`| ${row.name} | ${row.ms.toFixed(1)} |`)
console.log(`\nstage / scoring-only: ${ratios.stageOverScoring.toFixed(2)}×; instance+task / task-only bootstrap: ${ratios.instanceResamplingOverTaskResampling.toFixed(2)}×`)
console.log(`per instance: ${(stageMs / instanceCount).toFixed(3)} ms evaluated, ${(scoringMs / instanceCount).toFixed(3)} ms scored`)

const result = {
  benchmark: "superni-evaluate",
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? "unknown", node: process.version, platform: `${process.platform}-${process.arch}` },
  instances: instanceCount,
  rows,
  perInstanceMs: { evaluate: stageMs / instanceCount, scoring: scoringMs / instanceCount },
  ratios
}
mkdirSync(path.join(repoRoot, "bench-results"), { recursive: true })
writeFileSync(path.join(repoRoot, "bench-results/superni-evaluate.json"), `${JSON.stringify(result, null, 2)}\n`)
