/**
 * Options of `self-instruct/instances`.
 *
 * @example
 * ```yaml
 * dataset:
 *   _component_: self-instruct/instances
 *   instructions: classified
 *   model: policy
 *   maxInstances: 3
 *   templates: { inputFirst: ./prompts/input-first.txt }
 * ```
 */
import { Schema } from "effect"
import { RecipePath } from "@refine-af/core"
import { positiveInt, samplingOptions, withDefault } from "../options.ts"

/** Decoded options of the instances stage. */
export const InstancesOptions = Schema.Struct({
  /** Most (input, output) pairs kept per instruction. */
  maxInstances: positiveInt.annotate({ description: "Most (input, output) pairs kept per instruction." }).pipe(withDefault(5)),
  /** Instructions per language-model call. */
  batchSize: positiveInt.annotate({ description: "Instructions per language-model call." }).pipe(withDefault(4)),
  /** Pairs with a longer input are dropped ("over-long fields"). */
  maxInputWords: positiveInt.annotate({ description: "Pairs with a longer input are dropped (\"over-long fields\")." }).pipe(withDefault(150)),
  /** Pairs with a longer output are dropped. */
  maxOutputWords: positiveInt.annotate({ description: "Pairs with a longer output are dropped." }).pipe(withDefault(300)),
  /** Template files replacing the bundled ones; each holds `{instruction}` once. */
  templates: Schema.Struct({
    inputFirst: Schema.optionalKey(RecipePath("file", "template file for ordinary tasks (input first), holding `{instruction}` once")),
    outputFirst: Schema.optionalKey(RecipePath("file", "template file for classification tasks (output first), holding `{instruction}` once"))
  }).annotate({ description: "Template files replacing the bundled ones; each holds `{instruction}` once." }).pipe(withDefault({})),
  /**
   * Self-Instruct's instance sampling: greedy, presence penalty 1.5, stop when
   * the model starts a new task. Input-first prompts also stop at
   * "Example <maxInstances + 1>".
   */
  sampling: samplingOptions({ maxNewTokens: 350, temperature: 0, presencePenalty: 1.5, stop: ["Task:"] }).annotate({ description: "Self-Instruct's instance sampling: greedy, presence penalty 1.5, stop when the model starts a new task. Input-first prompts also stop at \"Example <maxInstances + 1>\"." })
})
/** The decoded instances options. */
export type InstancesOptions = typeof InstancesOptions.Type
