/**
 * Measures the committed built-in model (or `--model DIR`) on the fixed
 * prompt set and writes `wellformed.json` next to this tool.
 *
 * Usage: `npx tsx tools/builtin-model/check/measure.ts [--model DIR] [--out FILE]`
 */
import { writeFile } from "node:fs/promises"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { bundledTaskSet, loadTasks } from "@refine-af/eval-superni"
import { builtinSeedPath, readSeedFile } from "@refine-af/generator-self-instruct"
import { loadLlama, speakerModelFolder } from "@refine-af/model-llama"
import { Effect } from "effect"
import { measureWellFormedness } from "./wellformed.ts"

const { values } = parseArgs({ options: { model: { type: "string" }, out: { type: "string" } } })
const folder = values.model ?? speakerModelFolder()
const out = values.out ?? fileURLToPath(new URL("../wellformed.json", import.meta.url))
const started = Date.now()
const result = await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
  const backend = yield* makeOnnxBackend({ provider: "cpu", threads: 1, worker: false, float16Weights: false })
  const { service } = yield* loadLlama(folder, backend, { contextLength: 1024, maxBatch: 8 })
  const seeds = yield* readSeedFile(builtinSeedPath)
  const tasks = yield* loadTasks({ tasks: bundledTaskSet, maxInstances: 2 })
  return yield* measureWellFormedness(service, seeds, tasks)
})))
await writeFile(out, JSON.stringify({ model: nodePath.relative(process.cwd(), folder), seconds: (Date.now() - started) / 1000, ...result }, null, 1) + "\n")
for (const [format, s] of Object.entries(result)) console.log(`${format.padEnd(12)} ${s.wellFormed}/${s.prompts} (${(s.share * 100).toFixed(0)}%)  ${JSON.stringify(s.samples[0])}`)
console.log(`bootstrap candidates accepted: ${result.bootstrap.accepted}/${result.bootstrap.candidates}; classify answers correct: ${result.classify.correct}/${result.classify.prompts}`)
