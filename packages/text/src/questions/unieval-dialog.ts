/**
 * UniEval's Boolean-QA question formats for dialogue response evaluation
 * (Zhong et al., EMNLP 2022, `unieval-dialog`): each dimension is a yes/no
 * question followed by the response (and, for coherence, the dialogue history),
 * separated by the literal `</s>` marker the evaluator was trained on. The score
 * of a dimension is P(Yes) / (P(Yes) + P(No)) for the answer to this question.
 *
 * A refine-af sample becomes a one-turn dialogue: the history is the
 * instruction, then the input on its own line when there is one, then a blank
 * line (UniEval's own dialogue inputs end each history with `\n\n`); the
 * response is the output.
 *
 * @example
 * ```ts
 * import { uniEvalDialogQuestion } from "@refine-af/text"
 * const q = uniEvalDialogQuestion("naturalness", { instruction: "Greet me.", input: "", output: "Hello!" })
 * // "question: Is this a natural response in the dialogue? </s> response: Hello!"
 * ```
 */

/** The dimensions of `unieval-dialog` refine-af uses (the paper's Nat, Coh, Und). */
export const uniEvalDialogDimensions = ["naturalness", "coherence", "understandability"] as const
export type UniEvalDialogDimension = (typeof uniEvalDialogDimensions)[number]

/** The fields of a sample a question reads. */
export interface DialogSample {
  readonly instruction: string
  readonly input: string
  readonly output: string
}

/** The dialogue history of a sample: instruction, optional input line, blank line. */
export const dialogHistory = (sample: DialogSample): string =>
  `${sample.instruction}${sample.input.trim().length > 0 ? `\n${sample.input}` : ""}\n\n`

/** The exact UniEval question for one dimension of a sample. */
export const uniEvalDialogQuestion = (dimension: UniEvalDialogDimension, sample: DialogSample): string => {
  switch (dimension) {
    case "naturalness":
      return `question: Is this a natural response in the dialogue? </s> response: ${sample.output}`
    case "coherence":
      return `question: Is this a coherent response given the dialogue history? </s> response: ${sample.output} </s> dialogue history: ${dialogHistory(sample)}`
    case "understandability":
      return `question: Is this an understandable response in the dialogue? </s> response: ${sample.output}`
  }
}

/** P(Yes) / (P(Yes) + P(No)) from the two answers' log-probabilities (stable for any magnitudes). */
export const yesProbability = (logpYes: number, logpNo: number): number => {
  const d = logpNo - logpYes
  if (d === Infinity) return 0
  if (d === -Infinity) return 1
  return 1 / (1 + Math.exp(d))
}
