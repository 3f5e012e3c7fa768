/**
 * How an instance-generation prompt is built for one instruction record — shared
 * by `self-instruct/instances` (which generates with it) and
 * `self-instruct/rl-prompts` (which hands it to an RL trainer), so both see
 * exactly the same text: input-first for ordinary tasks, output-first (label
 * first) for classification tasks; input-first prompts also stop at
 * "Example <maxInstances + 1>".
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { builtinTemplates } from "./templates.ts"
 * import { instancePrompt } from "./prompt.ts"
 * const p = Effect.runSync(instancePrompt({ instruction: "Name a planet." }, 0, builtinTemplates, { maxInstances: 3, stop: ["Task:"] }))
 * p.stop // ["Task:", "Example 4"]
 * ```
 */
import { Effect } from "effect"
import type { JsonRecord } from "@refine-af/core"
import type { InputRecordInvalid, TemplateInvalid } from "../errors.ts"
import { classificationOf, instructionOf } from "../upstream.ts"
import { builtinTemplates, fillTemplate, readTemplateFile, type PromptTemplate } from "./templates.ts"

/** The two templates in use. */
export interface InstanceTemplates {
  readonly inputFirst: PromptTemplate
  readonly outputFirst: PromptTemplate
}

/** The templates named by `templates` options (paths resolved by `resolve`), bundled ones where omitted. */
export const loadInstanceTemplates = (
  files: { readonly inputFirst?: string | undefined; readonly outputFirst?: string | undefined },
  resolve: (path: string) => string
): Effect.Effect<InstanceTemplates, TemplateInvalid> =>
  Effect.all({
    inputFirst: files.inputFirst === undefined ? Effect.succeed(builtinTemplates.inputFirst) : readTemplateFile(resolve(files.inputFirst)),
    outputFirst: files.outputFirst === undefined ? Effect.succeed(builtinTemplates.outputFirst) : readTemplateFile(resolve(files.outputFirst))
  })

/** One instruction's instance-generation prompt. */
export interface InstancePrompt {
  readonly instruction: string
  readonly isClassification: boolean
  readonly template: PromptTemplate
  readonly prompt: string
  /** Stop strings: the configured ones, plus "Example <maxInstances + 1>" for input-first prompts. */
  readonly stop: Array<string>
}

/** The prompt for upstream record number `index` (fails when it has no instruction). */
export const instancePrompt = (
  record: JsonRecord,
  index: number,
  templates: InstanceTemplates,
  options: { readonly maxInstances: number; readonly stop: ReadonlyArray<string> }
): Effect.Effect<InstancePrompt, InputRecordInvalid> =>
  Effect.map(instructionOf(record, index), (instruction) => {
    const isClassification = classificationOf(record) === true
    const template = isClassification ? templates.outputFirst : templates.inputFirst
    const stop = isClassification ? [...options.stop] : [...options.stop, `Example ${options.maxInstances + 1}`]
    return { instruction, isClassification, template, prompt: fillTemplate(template, instruction), stop }
  })
