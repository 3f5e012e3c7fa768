/**
 * The few-shot prompt that asks a model whether an instruction is a
 * classification task (its answer comes from a small, fixed label set). The
 * examples are our own; the model answers "Yes" or "No" after the last
 * "Classification:".
 *
 * @example
 * ```ts
 * import { encodeClassifyPrompt } from "./prompt.ts"
 * encodeClassifyPrompt("Is this tweet sarcastic?").endsWith("Task: Is this tweet sarcastic?\nClassification:") // true
 * ```
 */

/** Bump when the prompt text changes (recorded in lineage). */
export const classifyPromptId = "classify/v1"

const CLASSIFY_EXAMPLES: ReadonlyArray<readonly [string, "Yes" | "No"]> = [
  ["Tell whether the email below is a phishing attempt.", "Yes"],
  ["Write a short poem about autumn leaves.", "No"],
  ["Given a movie review, label its sentiment as positive, negative or neutral.", "Yes"],
  ["Explain how a refrigerator keeps food cold.", "No"],
  ["How many legs does a spider have?", "No"],
  ["Decide if the two sentences mean the same thing. Answer yes or no.", "Yes"],
  ["Suggest a catchy title for a blog post about saving money.", "No"],
  ["Assign the support ticket to one of: billing, shipping, technical, other.", "Yes"],
  ["Translate the sentence into Italian.", "No"],
  ["Is the statement about history true or false?", "Yes"],
  ["Rewrite the paragraph so that a ten-year-old can follow it.", "No"],
  ["Identify the language of the given sentence: English, French, German or Spanish.", "Yes"]
]

const CLASSIFY_HEADER =
  "For each task, answer whether it is a classification task: one whose correct answer is chosen from a small, fixed set of labels (for example yes/no, true/false, or a list of categories). Open-ended writing, explanations and free-form answers are not classification."

/** The prompt for one instruction. */
export const encodeClassifyPrompt = (instruction: string): string => {
  const shots = CLASSIFY_EXAMPLES.map(([task, answer]) => `Task: ${task}\nClassification: ${answer}`).join("\n\n")
  return `${CLASSIFY_HEADER}\n\n${shots}\n\nTask: ${instruction.replace(/\s+/g, " ").trim()}\nClassification:`
}
