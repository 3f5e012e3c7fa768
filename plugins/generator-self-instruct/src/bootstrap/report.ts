/**
 * What the bootstrap stage leaves for the run report (the stage summary's `data.report`, see
 * the report conventions in `@refine-af/core`): the filter statistics — how many candidates
 * each filter rejected — and a few accepted and rejected instructions.
 *
 * The counts and rejected samples are those of the steps this attempt ran: after a resume the
 * earlier attempt's rejections are not known (its accepted instructions are).
 *
 * @example
 * ```ts
 * import { bootstrapReport } from "./report.ts"
 * import type { BootstrapEngine } from "./engine.ts"
 * declare const engine: BootstrapEngine
 * const report = bootstrapReport(engine, { resumed: false })
 * ```
 */
import { evenlySpaced, type JsonRecord } from "@refine-af/core"
import type { BootstrapEngine } from "./engine.ts"
import { instructionRejections } from "./filters.ts"

/** Accepted instructions shown. */
const acceptedSamples = 4

/** The filter table and samples of a finished bootstrap. */
export const bootstrapReport = (engine: BootstrapEngine, options: { readonly resumed: boolean }): JsonRecord => {
  const { counts } = engine
  const share = (count: number) => (counts.candidates === 0 ? null : count / counts.candidates)
  const rows: Array<Array<string | number | null>> = [
    ["responses", counts.responses, null],
    ["responses cut by the token limit (dropped whole)", counts.length_cut_responses, null],
    ["candidates parsed", counts.candidates, 1],
    ...instructionRejections.map((reason) => [`rejected: ${reason}`, counts[reason], share(counts[reason])]),
    ["accepted", counts.accepted, share(counts.accepted)]
  ]
  return {
    tables: [{
      title: "Filter statistics",
      columns: ["outcome", "count", "share of candidates"],
      rows,
      ...(options.resumed ? { note: "Counts of the steps run since the last resume; instructions accepted before it are in the records." } : {})
    }],
    samples: [
      ...evenlySpaced(engine.generated, acceptedSamples).map((item) => ({ group: "accepted instructions", id: item.id, instruction: item.instruction })),
      ...engine.rejectedSamples.map((sample) => ({ group: "rejected instructions", ...sample }))
    ]
  }
}
