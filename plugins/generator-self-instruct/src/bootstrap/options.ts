/**
 * Options of `self-instruct/bootstrap`. Every default is the paper's value.
 *
 * @example
 * ```yaml
 * instructions:
 *   _component_: self-instruct/bootstrap
 *   model: policy
 *   target: 200
 *   batchSize: 4
 *   filters: { rougeThreshold: 0.7 }
 * ```
 */
import { Schema } from "effect"
import { nonNegativeInt, positiveInt, samplingOptions, unitInterval, withDefault } from "../options.ts"
import { SeedSource } from "../seeds/SeedSource.ts"
import { defaultInstructionFilters } from "./filters.ts"
import { defaultBootstrapHeader } from "./prompt.ts"

/** The paper's stop strings: a blank line, or the model starting item 16. */
export const defaultBootstrapStop: ReadonlyArray<string> = ["\n\n", "\n16", "16.", "16 ."]

const FilterOptions = Schema.Struct({
  minWords: nonNegativeInt.annotate({ description: "Drop instructions shorter than this many words." }).pipe(withDefault(defaultInstructionFilters.minWords)),
  maxWords: positiveInt.annotate({ description: "Drop instructions longer than this many words." }).pipe(withDefault(defaultInstructionFilters.maxWords)),
  blacklist: Schema.Array(Schema.String).annotate({ description: "Drop instructions containing any of these words (tasks a language model cannot do: images, files, …)." }).pipe(withDefault(defaultInstructionFilters.blacklist)),
  forbiddenPrefixes: Schema.Array(Schema.String).annotate({ description: "Drop instructions starting with any of these." }).pipe(withDefault(defaultInstructionFilters.forbiddenPrefixes)),
  /** Drop a candidate whose ROUGE-L against any pooled instruction is strictly above this. */
  rougeThreshold: unitInterval.annotate({ description: "Drop a candidate whose ROUGE-L against any pooled instruction is strictly above this." }).pipe(withDefault(0.7)),
  /** Most similar pool entries kept per accepted instruction (entries scoring 0 are not listed). */
  neighbours: nonNegativeInt.annotate({ description: "Most similar pool entries kept per accepted instruction (entries scoring 0 are not listed)." }).pipe(withDefault(10)),
  /** Record each accepted instruction's mean ROUGE-L over the pool (the paper's avg_similarity_score); costs speed. */
  meanSimilarity: Schema.Boolean.annotate({ description: "Record each accepted instruction's mean ROUGE-L over the pool (the paper's avg_similarity_score); costs speed." }).pipe(withDefault(true))
}).annotate({ description: "The paper's instruction filters." }).check(Schema.makeFilter<{ readonly minWords?: number; readonly maxWords?: number }>((o) => {
  // A window no instruction fits rejects every candidate: the stage would write nothing.
  const min = o.minWords ?? defaultInstructionFilters.minWords
  const max = o.maxWords ?? defaultInstructionFilters.maxWords
  return min > max ? `minWords ${min} is above maxWords ${max}, so every instruction would be dropped: lower minWords or raise maxWords` : undefined
})).pipe(withDefault({}))

/** Decoded options of the bootstrap stage. */
export const BootstrapOptions = Schema.Struct({
  /** Seed tasks: a JSONL path, `{ url, sha256 }`, or absent for the bundled offline set. */
  seeds: Schema.optionalKey(SeedSource).annotate({ description: "Seed tasks: a JSONL path, `{ url, sha256 }`, or absent for the bundled offline set." }),
  /** Cache folder for pinned downloads (default `$REFINE_AF_CACHE_DIR` or `~/.cache/refine-af/downloads`). */
  cacheDir: Schema.optionalKey(Schema.String).annotate({ description: "Cache folder for pinned downloads (default `$REFINE_AF_CACHE_DIR` or `~/.cache/refine-af/downloads`)." }),
  /** How many new instructions to generate. */
  target: positiveInt.annotate({ description: "How many new instructions to generate." }).pipe(withDefault(100)),
  /** Prompts per language-model call (one step). */
  batchSize: positiveInt.annotate({ description: "Prompts per language-model call (one step)." }).pipe(withDefault(5)),
  /** Instructions shown per prompt. */
  promptInstructions: positiveInt.annotate({ description: "Instructions shown per prompt." }).pipe(withDefault(8)),
  /** Of those, how many are model-generated once any exist. */
  generatedPerPrompt: nonNegativeInt.annotate({ description: "Of those, how many are model-generated once any exist." }).pipe(withDefault(2)),
  /** The prompt's header line. */
  promptHeader: Schema.String.annotate({ description: "The prompt's header line." }).pipe(withDefault(defaultBootstrapHeader)),
  /** Worker threads for the ROUGE-L pool (0: on the stage's thread); pays off for pools of many thousands. */
  workers: nonNegativeInt.annotate({ description: "Worker threads for the ROUGE-L pool (0: on the stage's thread); pays off for pools of many thousands." }).pipe(withDefault(0)),
  /** Stop (with a warning) after this many consecutive steps that accept nothing. */
  maxIdleSteps: positiveInt.annotate({ description: "Stop (with a warning) after this many consecutive steps that accept nothing." }).pipe(withDefault(50)),
  /** Stop (with a warning) after this many steps in all, i.e. at most `maxSteps × batchSize` model requests (default: no bound). */
  maxSteps: Schema.optionalKey(positiveInt).annotate({ description: "Stop (with a warning) after this many steps in all, i.e. at most `maxSteps × batchSize` model requests (default: no bound)." }),
  sampling: samplingOptions({
    maxNewTokens: 1024,
    temperature: 0.7,
    topP: 0.5,
    presencePenalty: 2,
    frequencyPenalty: 0,
    stop: defaultBootstrapStop
  }),
  filters: FilterOptions
})
/** The decoded bootstrap options. */
export type BootstrapOptions = typeof BootstrapOptions.Type
