/**
 * Recipe validation cost, side by side in one process: for recipes of 10, 100
 * and 500 stages (a random DAG of fixture-plugin stages), time
 *  - `yaml.parse` alone (the floor: what any YAML loader pays),
 *  - `parseRecipeYaml` (parse + source positions + tag/alias refusal),
 *  - `loadRecipe` (everything: plugins, overrides, every node, both graphs);
 * and report each as a ratio to `yaml.parse`.
 *
 * Run: `npx tsx packages/core/bench/recipe-validate.ts` (from the repo root).
 * Writes `bench-results/recipe-validate.json`.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"
import { loadRecipe } from "../src/index.ts"
import { parseRecipeYaml } from "../src/recipe/parse-yaml.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, "../../..")
const textPlugin = path.resolve(here, "../test/fixtures/plugins/text")
const sizes = [10, 100, 500]
const repeats = 7

/** A deterministic random DAG: stage i reads a random earlier stage. */
const recipeText = (stageCount: number): string => {
  let seed = 12345
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const lines = [
    `plugins: [${textPlugin}]`,
    "resources:",
    "  policy: {_component_: text/tiny-lm, path: ./model}",
    "stages:",
    "  s0:",
    "    _component_: text/lines",
    "    lines: [alpha, beta, gamma]"
  ]
  for (let i = 1; i < stageCount; i++) {
    if (i % 3 === 0) lines.push(`  s${i}:`, "    _component_: text/generate", "    model: policy", `    seeds: s${Math.floor(random() * i)}`, "    max_instructions: 20", "    sampling: {temperature: 0.7, stop: [\"\\n\\n\"]}")
    else lines.push(`  s${i}:`, "    _component_: text/uppercase", `    records: s${Math.floor(random() * i)}`)
  }
  return `${lines.join("\n")}\n`
}

const median = (values: Array<number>): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const timeIt = async (work: () => unknown): Promise<number> => {
  await work()
  const samples: Array<number> = []
  for (let i = 0; i < repeats; i++) {
    const start = performance.now()
    await work()
    samples.push(performance.now() - start)
  }
  return median(samples)
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-bench-recipe-"))
const rows: Array<Record<string, number | string>> = []
for (const size of sizes) {
  const file = path.join(dir, `recipe-${size}.yaml`)
  const text = recipeText(size)
  fs.writeFileSync(file, text)
  const yamlMs = await timeIt(() => parse(text))
  const positionsMs = await timeIt(() => parseRecipeYaml(file, text))
  const loadMs = await timeIt(() => Effect.runPromise(loadRecipe(file)))
  rows.push({ stages: size, yamlParseMs: yamlMs, parseWithPositionsMs: positionsMs, loadRecipeMs: loadMs, positionsRatio: positionsMs / yamlMs, loadRatio: loadMs / yamlMs })
}
fs.rmSync(dir, { recursive: true, force: true })

console.table(rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === "number" && !Number.isInteger(value) ? Number(value.toFixed(2)) : value]))))
const result = {
  benchmark: "recipe-validate",
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  loadAverage1m: Number(os.loadavg()[0]!.toFixed(2)),
  repeats,
  note: "median of repeats after one warm-up; loadRecipe re-reads the file and re-imports nothing (plugin modules are cached by Node after the first import). Ratios are vs yaml.parse of the same text in the same process.",
  rows
}
fs.writeFileSync(path.join(repoRoot, "bench-results/recipe-validate.json"), `${JSON.stringify(result, null, 2)}\n`)
