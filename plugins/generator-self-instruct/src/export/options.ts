/**
 * Options of `self-instruct/export-hf`.
 *
 * @example
 * ```yaml
 * export:
 *   _component_: self-instruct/export-hf
 *   dataset: dataset
 *   name: my-instructions
 *   license: cc-by-4.0          # or: license: other, licenseName: llama2, licenseLink: LICENSE.txt
 *   notes: { reward_preset: refine-af-paper }
 * ```
 */
import { Schema } from "effect"
import { withDefault } from "../options.ts"

/** The formats the export writes beside its Alpaca rows, each a config of the dataset. */
export const exportFormats = ["messages", "prompt_completion"] as const
export type ExportFormat = (typeof exportFormats)[number]

/** Decoded options of the export stage. */
export const ExportOptions = Schema.Struct({
  /** Dataset name (card title, `pretty_name`). */
  name: Schema.String.annotate({ description: "Dataset name (card title, `pretty_name`)." }).pipe(withDefault("refine-af-instructions")),
  /** SPDX-style licence id for the card's front matter (the data's licence is yours to choose). */
  license: Schema.String.annotate({ description: "SPDX-style licence id for the card's front matter (the data's licence is yours to choose)." }).pipe(withDefault("other")),
  /** Name of a licence that has no SPDX id (`license: other`): the Hub's `license_name`. */
  licenseName: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[a-z0-9][a-z0-9.-]*$/))).annotate({ description: "With `license: other`: the licence's name as the Hub's `license_name` (lowercase letters, digits, '.', '-'), e.g. llama2." }),
  /** Where the licence text is (`license: other`): the Hub's `license_link`, a URL or a file in the folder. */
  licenseLink: Schema.optionalKey(Schema.String).annotate({ description: "With `license: other`: where the licence text is, as the Hub's `license_link` (a URL, or a file such as LICENSE.md)." }),
  /** Free-form description paragraph for the card. */
  description: Schema.String.annotate({ description: "Free-form description paragraph for the card." }).pipe(withDefault("Instruction-tuning data generated with refine-af (REFINE-AF / Self-Instruct).")),
  /** Configs written beside the Alpaca rows (config `default`): TRL's conversational and prompt-completion formats. */
  formats: Schema.Array(Schema.Literals(exportFormats)).annotate({
    description: "Configs written beside the Alpaca rows (config `default`, data/train.jsonl), each in data/<format>/train.jsonl: `messages` (a user turn — the instruction, a blank line and the input — and an assistant turn, the output: TRL's conversational format) and `prompt_completion` (the Alpaca prompt sft/lora trains on, and the output: TRL's prompt-completion format). [] writes the Alpaca rows alone."
  }).check(Schema.makeFilter<ReadonlyArray<string>>((formats) => (new Set(formats).size === formats.length ? undefined : "lists a format twice"))).pipe(withDefault([...exportFormats])),
  /** Extra provenance to record verbatim (reward preset, upstream model ids, ...). */
  notes: Schema.Record(Schema.String, Schema.String).annotate({ description: "Extra provenance to record verbatim (reward preset, upstream model ids, ...)." }).pipe(withDefault({}))
}).check(Schema.makeFilter<{ readonly license: string; readonly licenseName?: string; readonly licenseLink?: string }>((o) =>
  // The Hub reads license_name / license_link only beside `license: other`.
  o.license !== "other" && (o.licenseName !== undefined || o.licenseLink !== undefined)
    ? `licenseName / licenseLink describe a licence with no SPDX id and need license: other (license is ${JSON.stringify(o.license)}): set license: other, or drop them`
    : undefined
))
/** The decoded export options. */
export type ExportOptions = typeof ExportOptions.Type
