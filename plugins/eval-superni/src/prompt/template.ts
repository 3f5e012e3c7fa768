/**
 * Prompt encodings for SuperNI evaluation: the task definition, optionally k
 * positive demonstrations (Tk-Instruct's "definition + examples" setting), and
 * the instance input, in the "Definition: … Now complete the following
 * example - Input: … Output:" layout. Templates are plain strings with
 * `{placeholder}` slots and can be overridden from the recipe.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { makePromptEncoder } from "@refine-af/eval-superni"
 * const encode = Effect.runSync(makePromptEncoder({ positiveExamples: 0 }))
 * ```
 */
import { Effect } from "effect"
import { TemplateInvalid } from "../errors.ts"
import type { SuperNiExample, SuperNiInstance, SuperNiTask } from "../data/task.ts"

/** Default prompt: `{examples}` is empty in the zero-shot setting. */
export const defaultPromptTemplate =
  "Definition: {definition}\n\n{examples}Now complete the following example -\nInput: {input}\nOutput:"

/** Default rendering of one demonstration inside `{examples}` (1-based `{index}`). */
export const defaultExampleTemplate = "Example {index} -\nInput: {input}\nOutput: {output}\n\n"

/** How to turn a task instance into a prompt. */
export interface PromptOptions {
  /** Number of positive examples to show (0 = definition only, Self-Instruct's setting; 2 = Tk-Instruct's). */
  readonly positiveExamples: number
  readonly promptTemplate?: string
  readonly exampleTemplate?: string
}

const placeholderPattern = /\{([a-zA-Z_]+)\}/g

const checkTemplate = (template: string, allowed: ReadonlyArray<string>, required: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const used = [...template.matchAll(placeholderPattern)].map((match) => match[1]!)
    const unknown = used.filter((name) => !allowed.includes(name))
    if (unknown.length > 0) {
      return yield* new TemplateInvalid({
        template,
        message: `unknown placeholder(s) ${unknown.map((name) => `{${name}}`).join(", ")}`,
        fix: `Use only ${allowed.map((name) => `{${name}}`).join(", ")}.`
      })
    }
    const missing = required.filter((name) => !used.includes(name))
    if (missing.length > 0) {
      return yield* new TemplateInvalid({
        template,
        message: `missing placeholder(s) ${missing.map((name) => `{${name}}`).join(", ")}`,
        fix: "Add them: without them the model never sees that part of the task."
      })
    }
  })

/** Fills `{name}` slots in one pass, so values containing braces are never re-expanded. */
const fill = (template: string, values: Readonly<Record<string, string>>): string =>
  template.replace(placeholderPattern, (whole, name: string) => values[name] ?? whole)

/** A definition ends with punctuation so the "Now complete" line reads as a new sentence. */
const finishSentence = (text: string): string => {
  const trimmed = text.trim()
  return /[\p{P}]$/u.test(trimmed) || trimmed === "" ? trimmed : `${trimmed}.`
}

/**
 * Turns (task, instance) into a prompt string. `examples` lowers the number of
 * demonstrations for this one prompt (used to fit a context window); it never
 * raises it above the configured count.
 */
export type PromptEncoder = (task: SuperNiTask, instance: SuperNiInstance, examples?: number) => string

/** Validates the templates once and returns the encoder. */
export const makePromptEncoder = (options: PromptOptions): Effect.Effect<PromptEncoder, TemplateInvalid> =>
  Effect.gen(function*() {
    const promptTemplate = options.promptTemplate ?? defaultPromptTemplate
    const exampleTemplate = options.exampleTemplate ?? defaultExampleTemplate
    yield* checkTemplate(promptTemplate, ["definition", "examples", "input"], options.positiveExamples > 0 ? ["input", "examples"] : ["input"])
    yield* checkTemplate(exampleTemplate, ["index", "input", "output"], ["input", "output"])
    const renderExamples = (examples: ReadonlyArray<SuperNiExample>, count: number) =>
      examples
        .slice(0, count)
        .map((example, index) =>
          fill(exampleTemplate, { index: String(index + 1), input: example.input.trim(), output: example.output.trim() })
        )
        .join("")
    return (task, instance, examples = options.positiveExamples) =>
      fill(promptTemplate, {
        definition: finishSentence(task.definition),
        examples: renderExamples(task.positiveExamples, Math.min(examples, options.positiveExamples)),
        input: instance.input.trim()
      })
  })
