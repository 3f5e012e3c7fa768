/**
 * Text rules: each is a named 0/1 test of a string. Score = bias + Σ weight·pass.
 * Kinds: `contains-digit`, `ends-with-period` (after trailing whitespace),
 * `regex` (JavaScript syntax, `flags` optional), `non-empty`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { RuleSet, scoreText } from "./rules.ts"
 * const rules = Schema.decodeUnknownSync(RuleSet)({ rules: [{ kind: "contains-digit" }, { kind: "regex", pattern: "^Yes", weight: 2 }] })
 * scoreText(rules, "Yes, 4.") // { value: 3, parts: { "contains-digit": 1, "regex:^Yes": 1 } }
 * ```
 */
import { Schema } from "effect"

const validRegex = Schema.makeFilter<{ readonly kind: string; readonly pattern?: string | undefined; readonly flags?: string | undefined }>((rule) => {
  if (rule.kind !== "regex") return rule.pattern === undefined ? undefined : `pattern is only read by kind: regex (this rule is ${rule.kind})`
  if (rule.pattern === undefined) return "a regex rule needs `pattern`"
  try {
    new RegExp(rule.pattern, rule.flags)
    return undefined
  } catch (error) {
    return `pattern ${JSON.stringify(rule.pattern)} is not a valid regular expression: ${(error as Error).message}`
  }
})

/** One rule. */
export const Rule = Schema.Struct({
  kind: Schema.Literals(["contains-digit", "ends-with-period", "regex", "non-empty"]).annotate({ description: "What the rule checks: a digit, a final period, a regular expression match, non-empty text." }),
  pattern: Schema.optionalKey(Schema.String).annotate({ description: "The regular expression (kind regex)." }),
  flags: Schema.optionalKey(Schema.String).annotate({ description: "Regular expression flags, e.g. i (kind regex)." }),
  /** Added to the score when the rule passes. */
  weight: Schema.optionalKey(Schema.Finite).annotate({ description: "Added to the score when the rule passes." }),
  /** Name of the rule's part (default: the kind, `regex:<pattern>` for regexes). */
  name: Schema.optionalKey(Schema.String).annotate({ description: "Name of the rule's part (default: the kind, `regex:<pattern>` for regexes)." })
}).check(validRegex)
export type Rule = typeof Rule.Type

/** A weighted rule list and a constant. */
export const RuleSet = Schema.Struct({
  rules: Schema.Array(Rule).check(Schema.isMinLength(1)).annotate({ description: "The rules; the score is bias + Σ weight × (1 if the rule holds, else 0)." }),
  /** Added to every score. */
  bias: Schema.optionalKey(Schema.Finite).annotate({ description: "Added to every score." })
})
export type RuleSet = typeof RuleSet.Type

const nameOf = (rule: Rule): string => rule.name ?? (rule.kind === "regex" ? `regex:${rule.pattern}` : rule.kind)

const passes = (rule: Rule, text: string): boolean => {
  switch (rule.kind) {
    case "contains-digit":
      return /\d/.test(text)
    case "ends-with-period":
      return text.trimEnd().endsWith(".")
    case "non-empty":
      return text.trim() !== ""
    case "regex":
      return new RegExp(rule.pattern!, rule.flags).test(text)
  }
}

/** The score of one text and each rule's 0/1 as a part. */
export const scoreText = (set: RuleSet, text: string): { readonly value: number; readonly parts: Record<string, number> } => {
  const parts: Record<string, number> = {}
  let value = set.bias ?? 0
  for (const rule of set.rules) {
    const pass = passes(rule, text) ? 1 : 0
    parts[nameOf(rule)] = pass
    value += pass * (rule.weight ?? 1)
  }
  return { value, parts }
}
