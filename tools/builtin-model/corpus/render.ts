/**
 * Renders a task in each prompt format the pipeline sends, using the
 * pipeline's own prompt builders (generator-self-instruct's bootstrap,
 * classify and instance templates; eval-superni's prompt encoder), followed
 * by the answer a well-behaved model would write. A document is
 * `prompt + completion`; the trainer learns every token of it.
 */
import { builtinTemplates, defaultBootstrapHeader, encodeBootstrapPrompt, encodeClassifyPrompt, fillTemplate } from "@refine-af/generator-self-instruct"
import { type PromptEncoder } from "@refine-af/eval-superni"
import type { Rng } from "./rng.ts"
import type { Example, Task } from "./task.ts"

/** The pipeline's prompt formats. */
export type Format = "bootstrap" | "classify" | "input-first" | "output-first" | "superni"

/** One training document: what the pipeline would send and what the model should answer. */
export interface Document {
  readonly format: Format
  readonly prompt: string
  readonly completion: string
}

/** A bootstrap list of `instructions`: the prompt shows the first `shown`, the completion continues to the stop at item 16. */
export const renderBootstrap = (instructions: ReadonlyArray<string>, shown: number): Document => {
  const full = encodeBootstrapPrompt(instructions, defaultBootstrapHeader)
  const prompt = encodeBootstrapPrompt(instructions.slice(0, shown), defaultBootstrapHeader)
  return { format: "bootstrap", prompt, completion: full.slice(prompt.length) }
}

/** Classification identification: " Yes" or " No", then the line end the stage stops at. */
export const renderClassify = (task: Task): Document => ({
  format: "classify",
  prompt: encodeClassifyPrompt(task.instruction),
  completion: ` ${task.isClassification ? "Yes" : "No"}\n`
})

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim()

/** Input-first instances: "Input: …\nOutput: …" bodies separated by "Example k" lines, ending where the next task would start. */
export const renderInputFirst = (task: Task, examples: ReadonlyArray<Example>): Document => {
  const bodies = examples.map((e, i) => `${i === 0 ? "" : `Example ${i + 1}\n`}${e.input === "" ? "Input:" : `Input: ${oneLine(e.input)}`}\nOutput: ${oneLine(e.output)}\n`)
  return { format: "input-first", prompt: fillTemplate(builtinTemplates.inputFirst, task.instruction), completion: `${bodies.join("")}\nTask:` }
}

/** Output-first instances: " Label\nInput: …" per class, ending where the next task would start. */
export const renderOutputFirst = (task: Task, examples: ReadonlyArray<Example>): Document => {
  const bodies = examples.map((e, i) => `${i === 0 ? " " : "Class label: "}${oneLine(e.output)}\n${e.input === "" ? "" : `Input: ${oneLine(e.input)}\n`}`)
  return { format: "output-first", prompt: fillTemplate(builtinTemplates.outputFirst, task.instruction), completion: `${bodies.join("")}\nTask:` }
}

/** A SuperNI-style evaluation prompt (definition, optional demonstrations, input) and the answer. */
export const renderSuperNi = (encode: PromptEncoder, task: Task, rng: Rng, demonstrations: number): Document => {
  const shots = Array.from({ length: demonstrations }, () => task.example(rng))
  const target = task.example(rng)
  const prompt = encode(
    { name: "generated", definition: task.instruction, category: "generated", positiveExamples: shots, instances: [] },
    { id: "0", input: target.input, output: [target.output] },
    demonstrations
  )
  return { format: "superni", prompt, completion: ` ${oneLine(target.output)}\n\n` }
}
