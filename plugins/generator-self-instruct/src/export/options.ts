/**
 * Options of `self-instruct/export-hf`.
 *
 * @example
 * ```yaml
 * export:
 *   _component_: self-instruct/export-hf
 *   dataset: dataset
 *   name: my-instructions
 *   license: cc-by-4.0
 *   notes: { reward_preset: refine-af-paper }
 * ```
 */
import { Schema } from "effect"
import { withDefault } from "../options.ts"

/** Decoded options of the export stage. */
export const ExportOptions = Schema.Struct({
  /** Dataset name (card title, `pretty_name`). */
  name: Schema.String.annotate({ description: "Dataset name (card title, `pretty_name`)." }).pipe(withDefault("refine-af-instructions")),
  /** SPDX-style licence id for the card's front matter (the data's licence is yours to choose). */
  license: Schema.String.annotate({ description: "SPDX-style licence id for the card's front matter (the data's licence is yours to choose)." }).pipe(withDefault("other")),
  /** Free-form description paragraph for the card. */
  description: Schema.String.annotate({ description: "Free-form description paragraph for the card." }).pipe(withDefault("Instruction-tuning data generated with refine-af (REFINE-AF / Self-Instruct).")),
  /** Extra provenance to record verbatim (reward preset, upstream model ids, ...). */
  notes: Schema.Record(Schema.String, Schema.String).annotate({ description: "Extra provenance to record verbatim (reward preset, upstream model ids, ...)." }).pipe(withDefault({}))
})
/** The decoded export options. */
export type ExportOptions = typeof ExportOptions.Type
