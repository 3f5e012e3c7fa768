/**
 * What a user should know about how an evaluation's generations were made:
 * answers cut by the token limit, prompts shortened to fit the context.
 * Computed from all records (resumed ones included), so a resumed run reports
 * the same as an uninterrupted one.
 */
import type { PredictionRecord, PromptFit } from "../metrics/prediction.ts"

/** Counts and the warnings to show. */
export interface GenerationDiagnostics {
  /** Generations with `finishReason: "length"`. */
  readonly truncated: number
  readonly promptFits: Readonly<Record<PromptFit, number>>
  readonly warnings: ReadonlyArray<string>
}

/** Summarises the records of one evaluation. */
export const generationDiagnostics = (
  records: ReadonlyArray<PredictionRecord>,
  limits: { readonly maxNewTokens: number; readonly promptBudget: number }
): GenerationDiagnostics => {
  const truncated = records.filter((record) => record.finishReason === "length").length
  const promptFits: Record<PromptFit, number> = { "dropped-examples": 0, "truncated-input": 0, "over-budget": 0 }
  for (const record of records) if (record.fit !== undefined) promptFits[record.fit]++
  const warnings: Array<string> = []
  if (truncated > 0) warnings.push(`${truncated} of ${records.length} generations hit maxNewTokens=${limits.maxNewTokens}`)
  if (promptFits["dropped-examples"] + promptFits["truncated-input"] + promptFits["over-budget"] > 0) {
    warnings.push(
      `prompts shortened to fit ${limits.promptBudget} tokens: ${promptFits["dropped-examples"]} lost demonstrations, ` +
        `${promptFits["truncated-input"]} lost the end of their input, ${promptFits["over-budget"]} still too long`
    )
  }
  return { truncated, promptFits, warnings }
}
