/**
 * The training corpus: an endless, seeded stream of documents in every
 * pipeline format, drawn from the procedural families and the bundled seed
 * tasks. `makeCorpus(seed, seeds)(n)` is the n-th document, the same on
 * every run.
 *
 * @example
 * ```ts
 * import { makeCorpus } from "./corpus.ts"
 * const documentAt = makeCorpus(1, [])
 * documentAt(0).format // e.g. "classify"
 * ```
 */
import { makePromptEncoder } from "@refine-af/eval-superni"
import type { SeedTask } from "@refine-af/generator-self-instruct"
import { Effect } from "effect"
import { FAMILIES, seedAsTask } from "./families.ts"
import { renderBootstrap, renderClassify, renderInputFirst, renderOutputFirst, renderSuperNi, type Document, type Format } from "./render.ts"
import { makeRng, type Rng } from "./rng.ts"
import type { Example, Task } from "./task.ts"

/** Share of each format in the stream (sums to 1). */
export const FORMAT_MIX: ReadonlyArray<readonly [Format, number]> = [
  ["bootstrap", 0.26],
  ["classify", 0.16],
  ["input-first", 0.22],
  ["output-first", 0.14],
  ["superni", 0.22]
]

const pickFormat = (rng: Rng): Format => {
  let u = rng.next()
  for (const [format, share] of FORMAT_MIX) {
    if (u < share) return format
    u -= share
  }
  return "superni"
}

/** A document generator: the n-th document for a corpus seed. */
export const makeCorpus = (seed: number, seeds: ReadonlyArray<SeedTask>): ((index: number) => Document) => {
  const seedTasks = seeds.map(seedAsTask)
  const encode = Effect.runSync(makePromptEncoder({ positiveExamples: 2 }))
  const drawTask = (rng: Rng, want?: boolean): Task => {
    for (;;) {
      const task = seedTasks.length > 0 && rng.chance(0.25) ? rng.pick(seedTasks) : rng.pick(FAMILIES)(rng)
      if (want === undefined || task.isClassification === want) return task
    }
  }
  const distinctExamples = (rng: Rng, task: Task, count: number): Array<Example> => {
    const seen = new Set<string>()
    const out: Array<Example> = []
    for (let tries = 0; out.length < count && tries < count * 4; tries++) {
      const e = task.example(rng)
      if (!seen.has(e.input)) {
        seen.add(e.input)
        out.push(e)
      }
    }
    return out
  }
  return (index) => {
    const rng = makeRng((seed * 1_000_003 + index * 7919) >>> 0)
    switch (pickFormat(rng)) {
      case "bootstrap": {
        // One instruction per family or seed task, so a list never repeats itself.
        const fromSeeds = rng.int(3, 7)
        const tasks = [...rng.sample(seedTasks, fromSeeds), ...rng.sample(FAMILIES, 15 - Math.min(fromSeeds, seedTasks.length)).map((family) => family(rng))]
        return renderBootstrap(rng.sample(tasks, tasks.length).map((task) => task.instruction), rng.int(4, 10))
      }
      case "classify":
        return renderClassify(drawTask(rng, rng.chance(0.5)))
      case "input-first": {
        const task = drawTask(rng, false)
        return renderInputFirst(task, distinctExamples(rng, task, rng.int(1, 3)))
      }
      case "output-first": {
        const task = drawTask(rng, true)
        const labels = task.labels ?? []
        const examples = labels.length > 1 ? rng.sample(labels, labels.length).map((label) => task.example(rng, label)) : distinctExamples(rng, task, 1)
        return renderOutputFirst(task, examples)
      }
      case "superni":
        return renderSuperNi(encode, drawTask(rng), rng, rng.chance(0.5) ? 0 : 2)
    }
  }
}
