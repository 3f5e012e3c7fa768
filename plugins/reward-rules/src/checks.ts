/**
 * Answer checks for procedural tasks whose answer follows from the input:
 * arithmetic, sorting, extremes, counting, parity, comparison, and string
 * edits (reverse, case, first/last/longest word, acronym, vowels, plural,
 * palindrome, alphabetical order). A check recognises its task from the
 * instruction's wording, computes the expected answer from the input, and
 * compares it with the output after light normalisation (case, a trailing
 * period, list separators, numeric equality).
 *
 * Verdicts: `correct`, `wrong`, `bad-input` (the task was recognised but the
 * input does not have the shape it needs, e.g. three numbers for "add the two
 * numbers"), or `unchecked` (no check recognises the instruction).
 *
 * @example
 * ```ts
 * import { checkAnswer } from "./checks.ts"
 * checkAnswer({ instruction: "Add the two numbers.", input: "3 + 4", output: "7" }).verdict // "correct"
 * checkAnswer({ instruction: "Write a poem.", input: "", output: "Roses." }).verdict // "unchecked"
 * ```
 */

/** The outcome of checking one (instruction, input, output) sample. */
export interface Verdict {
  readonly verdict: "correct" | "wrong" | "bad-input" | "unchecked"
  /** The check that recognised the task. */
  readonly check?: string
  /** The answer the check computed (absent for bad input and unchecked). */
  readonly expected?: string
}

type Answer =
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "text"; readonly value: string }
  | { readonly kind: "exact"; readonly value: string } | { readonly kind: "list"; readonly value: ReadonlyArray<string> }

interface Check {
  readonly name: string
  /** Recognises the task from the (lower-cased) instruction. */
  readonly matches: (instruction: string) => boolean
  /** The expected answer, or undefined when the input has the wrong shape. */
  readonly solve: (input: string, instruction: string) => Answer | undefined
}

const numbersIn = (text: string): Array<number> => (text.match(/-?\d+(?:\.\d+)?/g) ?? []).map(Number)
const wordsIn = (text: string): Array<string> => text.replace(/[.,!?;:"]/g, " ").split(/\s+/).filter((w) => w !== "")
const itemsIn = (text: string): Array<string> => text.split(/[,;\n]/).map((s) => s.trim().replace(/\.$/, "")).filter((s) => s !== "")
const num = (value: number): Answer => ({ kind: "number", value })
const text = (value: string): Answer => ({ kind: "text", value })
/** Compared case-sensitively (case is the task). */
const exact = (value: string): Answer => ({ kind: "exact", value })
const list = (value: ReadonlyArray<string>): Answer => ({ kind: "list", value })
const has = (...words: ReadonlyArray<string>) => (s: string) => words.some((w) => s.includes(w))
const pair = (input: string): readonly [number, number] | undefined => {
  const ns = numbersIn(input)
  return ns.length === 2 ? [ns[0]!, ns[1]!] : undefined
}
const manyNumbers = (input: string): Array<number> | undefined => {
  const ns = numbersIn(input)
  const rest = wordsIn(input.replace(/-?\d+(?:\.\d+)?/g, "")).filter((w) => !["and", "or", "&"].includes(w.toLowerCase()))
  return ns.length >= 2 && rest.length === 0 ? ns : undefined
}
const yesNo = (b: boolean) => text(b ? "yes" : "no")
const singleWord = (input: string): string | undefined => {
  const w = wordsIn(input)
  return w.length === 1 ? w[0] : undefined
}
/** Numeric tasks must name what they compute on, so "the largest city" or "summarize" is not mistaken for one. */
const numeric = (s: string) => /\b(numbers?|values?|scores?|prices?|ages?|temperatures?|distances?|weights?)\b/.test(s)
const word = (pattern: RegExp) => (s: string) => pattern.test(s)
const descending = has("descending", "largest to smallest", "highest to lowest", "biggest to smallest")
const ordering = has("sort", "arrange", "order")

/** The checks in priority order: the first whose wording matches decides. */
const CHECKS: ReadonlyArray<Check> = [
  { name: "palindrome", matches: has("palindrome", "same backwards", "same forwards"), solve: (i) => { const w = singleWord(i)?.toLowerCase(); return w === undefined ? undefined : yesNo(w === [...w].reverse().join("")) } },
  { name: "even-odd", matches: (s) => s.includes("even") && s.includes("odd"), solve: (i) => { const ns = numbersIn(i); return ns.length === 1 && Number.isInteger(ns[0]) ? text(ns[0]! % 2 === 0 ? "even" : "odd") : undefined } },
  { name: "greater", matches: (s) => numeric(s) && has("greater than", "larger than")(s) && s.includes("first") && s.includes("second"), solve: (i) => { const p = pair(i); return p && yesNo(p[0] > p[1]) } },
  { name: "sort-words", matches: (s) => has("alphabetical", "a to z")(s), solve: (i) => { const items = itemsIn(i); return items.length >= 2 ? list([...items].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) : undefined } },
  { name: "sort-numbers", matches: (s) => numeric(s) && (descending(s) || has("ascending", "smallest to largest", "lowest to highest")(s)), solve: (i, s) => { const ns = manyNumbers(i); return ns && list([...ns].sort((a, b) => (descending(s) ? b - a : a - b)).map(String)) } },
  { name: "average", matches: (s) => numeric(s) && word(/\b(average|mean)\b/)(s), solve: (i) => { const ns = manyNumbers(i); return ns && num(ns.reduce((a, b) => a + b, 0) / ns.length) } },
  { name: "multiply", matches: (s) => numeric(s) && word(/\b(multiply|product|times the)\b/)(s), solve: (i) => { const p = pair(i); return p && num(p[0] * p[1]) } },
  { name: "subtract", matches: (s) => numeric(s) && word(/\b(subtract|difference|minus|away from)\b/)(s), solve: (i) => { const p = pair(i); return p && num(p[0] - p[1]) } },
  { name: "add", matches: (s) => numeric(s) && word(/\b(sum|add|adding|total)\b/)(s), solve: (i) => { const p = pair(i); return p && num(p[0] + p[1]) } },
  { name: "count-letter", matches: (s) => /letter "?[a-z]"?/.test(s) && has("how many times", "how often", "count")(s), solve: (i, s) => { const letter = /letter "?([a-z])"?/.exec(s)![1]!; return i.trim() === "" ? undefined : num([...i.toLowerCase()].filter((c) => c === letter).length) } },
  { name: "count-words", matches: (s) => has("words")(s) && has("count", "how many", "number of")(s), solve: (i) => (i.trim() === "" ? undefined : num(wordsIn(i).length)) },
  { name: "count-items", matches: (s) => numeric(s) && has("how many", "count", "number of")(s) && has("list", "given")(s), solve: (i) => { const items = itemsIn(i); return items.length >= 1 ? num(items.length) : undefined } },
  { name: "maximum", matches: (s) => numeric(s) && !ordering(s) && has("largest", "biggest", "maximum", "highest")(s), solve: (i) => { const ns = manyNumbers(i); return ns && num(Math.max(...ns)) } },
  { name: "minimum", matches: (s) => numeric(s) && !ordering(s) && has("smallest", "lowest", "minimum")(s), solve: (i) => { const ns = manyNumbers(i); return ns && num(Math.min(...ns)) } },
  { name: "reverse", matches: has("reverse", "backwards"), solve: (i) => { const w = singleWord(i); return w === undefined ? undefined : text([...w].reverse().join("")) } },
  { name: "acronym", matches: has("acronym", "initials"), solve: (i) => { const w = wordsIn(i); return w.length >= 2 ? text(w.map((x) => x[0]!.toUpperCase()).join("")) : undefined } },
  { name: "upper-case", matches: has("upper case", "uppercase", "capital letters"), solve: (i) => (i.trim() === "" ? undefined : exact(i.trim().toUpperCase())) },
  { name: "lower-case", matches: has("lower case", "lowercase", "small letters"), solve: (i) => (i.trim() === "" ? undefined : exact(i.trim().toLowerCase())) },
  { name: "first-word", matches: (s) => s.includes("first word"), solve: (i) => { const w = wordsIn(i); return w.length >= 2 ? text(w[0]!) : undefined } },
  { name: "last-word", matches: has("last word", "comes last"), solve: (i) => { const w = wordsIn(i); return w.length >= 2 ? text(w[w.length - 1]!) : undefined } },
  { name: "longest-word", matches: has("longest word", "most letters"), solve: (i) => { const w = wordsIn(i); return w.length >= 2 ? text(w.reduce((best, x) => (x.length > best.length ? x : best))) : undefined } },
  { name: "remove-vowels", matches: (s) => s.includes("vowel") && has("remove", "delete")(s), solve: (i) => { const w = singleWord(i); return w === undefined ? undefined : text(w.replace(/[aeiou]/gi, "")) } },
  { name: "plural", matches: has("plural"), solve: (i) => { const w = singleWord(i); return w === undefined ? undefined : text(/(s|sh|ch|x|z)$/i.test(w) ? `${w}es` : /[^aeiou]y$/i.test(w) ? `${w.slice(0, -1)}ies` : `${w}s`) } }
]

const normalise = (s: string) => s.trim().replace(/[.!]+$/, "").trim().toLowerCase()

const agrees = (answer: Answer, output: string): boolean => {
  switch (answer.kind) {
    case "number": {
      const ns = numbersIn(output)
      return ns.length === 1 && Math.abs(ns[0]! - answer.value) < 1e-9 && wordsIn(output.replace(/-?\d+(?:\.\d+)?/g, "")).length <= 3
    }
    case "text":
      return normalise(output) === normalise(answer.value)
    case "exact":
      return output.trim().replace(/[.!]+$/, "") === answer.value.replace(/[.!]+$/, "")
    case "list": {
      const tokens = (xs: ReadonlyArray<string>) => xs.flatMap((x) => x.split(/[,;\s]+/)).map(normalise).filter((x) => x !== "")
      const got = tokens([output])
      const want = tokens(answer.value)
      return got.length === want.length && got.every((g, k) => g === want[k])
    }
  }
}

const show = (answer: Answer): string => (answer.kind === "list" ? answer.value.join(", ") : String(answer.value))

/** Checks one sample: the first check whose wording matches the instruction decides. */
export const checkAnswer = (sample: { readonly instruction: string; readonly input: string; readonly output: string }): Verdict => {
  const instruction = sample.instruction.toLowerCase()
  const check = CHECKS.find((c) => c.matches(instruction))
  if (check === undefined) return { verdict: "unchecked" }
  const answer = check.solve(sample.input, instruction)
  if (answer === undefined) return { verdict: "bad-input", check: check.name }
  return { verdict: agrees(answer, sample.output) ? "correct" : "wrong", check: check.name, expected: show(answer) }
}

/** The names of every check, in priority order (for docs and tests). */
export const checkNames: ReadonlyArray<string> = CHECKS.map((c) => c.name)
