import { containsVowel, endsWithCvc, endsWithDoubleConsonant, isConsonantAt, measure } from "./word-shape.ts"

/**
 * The Porter (1980) stemmer in nltk 3.8's default `NLTK_EXTENSIONS` mode, the stemmer behind
 * rouge_score's `use_stemmer=True`. Written from the published algorithm plus nltk's documented
 * departures: an irregular-forms table, words of length ≤ 2 left alone, 4-letter `-ies`/`-ied`
 * → `-ie`, `-ied` → `-i` otherwise, the `(*c and not c) Y → I` condition, `alli` handled first
 * in step 2, and the extra step-2 rules `fulli → ful` and `logi → log`.
 */

/** A suffix rule: when the word ends in `suffix`, `accept(stem)` decides whether to rewrite. */
interface SuffixRule {
  readonly suffix: string
  readonly replacement: string
  readonly accept: (stem: string) => boolean
}

const rule = (suffix: string, replacement: string, accept: (stem: string) => boolean): SuffixRule => ({
  suffix,
  replacement,
  accept
})

const always = (): boolean => true
const positiveMeasure = (stem: string): boolean => measure(stem) > 0
const measureAboveOne = (stem: string): boolean => measure(stem) > 1

/**
 * Porter's rule-list semantics: the FIRST rule whose suffix matches decides. If its condition
 * fails, the word is returned unchanged; later rules are not tried.
 */
const applyFirstMatchingRule = (word: string, rules: ReadonlyArray<SuffixRule>): string => {
  for (const candidate of rules) {
    if (!word.endsWith(candidate.suffix)) continue
    const stem = word.slice(0, word.length - candidate.suffix.length)
    return candidate.accept(stem) ? stem + candidate.replacement : word
  }
  return word
}

/** Whole-word exceptions nltk checks before any rule. */
const IRREGULAR_FORMS: ReadonlyMap<string, string> = new Map([
  ["skies", "sky"], ["sky", "sky"],
  ["dying", "die"], ["lying", "lie"], ["tying", "tie"],
  ["news", "news"],
  ["innings", "inning"], ["inning", "inning"],
  ["outings", "outing"], ["outing", "outing"],
  ["cannings", "canning"], ["canning", "canning"],
  ["howe", "howe"],
  ["proceed", "proceed"], ["exceed", "exceed"], ["succeed", "succeed"]
])

/** Step 1a: plurals. */
const STEP_1A_RULES = [rule("sses", "ss", always), rule("ies", "i", always), rule("ss", "ss", always), rule("s", "", always)]

const step1a = (word: string): string => {
  // nltk: "ties" → "tie", not the original "ti".
  if (word.length === 4 && word.endsWith("ies")) return word.slice(0, 1) + "ie"
  return applyFirstMatchingRule(word, STEP_1A_RULES)
}

/** Step 1b cleanup after removing -ed/-ing: restore an e, undouble a consonant. */
const tidyAfterEdOrIng = (stem: string): string => {
  if (stem.endsWith("at") || stem.endsWith("bl") || stem.endsWith("iz")) return stem + "e"
  if (endsWithDoubleConsonant(stem)) {
    const last = stem[stem.length - 1]
    // "fall", "hiss", "fizz" keep their double letter.
    return last === "l" || last === "s" || last === "z" ? stem : stem.slice(0, -1)
  }
  return measure(stem) === 1 && endsWithCvc(stem) ? stem + "e" : stem
}

/** Step 1b: past tense and gerunds. */
const step1b = (word: string): string => {
  if (word.endsWith("ied")) return word.length === 4 ? word.slice(0, 1) + "ie" : word.slice(0, -3) + "i"
  if (word.endsWith("eed")) {
    const stem = word.slice(0, -3)
    return measure(stem) > 0 ? stem + "ee" : word
  }
  for (const suffix of ["ed", "ing"]) {
    if (!word.endsWith(suffix)) continue
    const stem = word.slice(0, word.length - suffix.length)
    if (containsVowel(stem)) return tidyAfterEdOrIng(stem)
  }
  return word
}

/** Step 1c: y → i only after a consonant that is not the whole stem ("happy" → "happi", "enjoy", "by" stay). */
const step1c = (word: string): string =>
  applyFirstMatchingRule(word, [rule("y", "i", (stem) => stem.length > 1 && isConsonantAt(stem, stem.length - 1))])

const STEP_2_RULES: ReadonlyArray<SuffixRule> = [
  rule("ational", "ate", positiveMeasure),
  rule("tional", "tion", positiveMeasure),
  rule("enci", "ence", positiveMeasure),
  rule("anci", "ance", positiveMeasure),
  rule("izer", "ize", positiveMeasure),
  rule("bli", "ble", positiveMeasure),
  rule("alli", "al", positiveMeasure),
  rule("entli", "ent", positiveMeasure),
  rule("eli", "e", positiveMeasure),
  rule("ousli", "ous", positiveMeasure),
  rule("ization", "ize", positiveMeasure),
  rule("ation", "ate", positiveMeasure),
  rule("ator", "ate", positiveMeasure),
  rule("alism", "al", positiveMeasure),
  rule("iveness", "ive", positiveMeasure),
  rule("fulness", "ful", positiveMeasure),
  rule("ousness", "ous", positiveMeasure),
  rule("aliti", "al", positiveMeasure),
  rule("iviti", "ive", positiveMeasure),
  rule("biliti", "ble", positiveMeasure),
  rule("fulli", "ful", positiveMeasure),
  // The measure counts the l too, so short roots like "geo-logi" still qualify.
  rule("logi", "log", (stem) => positiveMeasure(stem + "l"))
]

/** Step 2: double suffixes to single ones. nltk runs alli → al first and re-enters step 2. */
const step2 = (word: string): string => {
  if (word.endsWith("alli") && positiveMeasure(word.slice(0, -4))) return step2(word.slice(0, -4) + "al")
  return applyFirstMatchingRule(word, STEP_2_RULES)
}

const STEP_3_RULES: ReadonlyArray<SuffixRule> = [
  rule("icate", "ic", positiveMeasure),
  rule("ative", "", positiveMeasure),
  rule("alize", "al", positiveMeasure),
  rule("iciti", "ic", positiveMeasure),
  rule("ical", "ic", positiveMeasure),
  rule("ful", "", positiveMeasure),
  rule("ness", "", positiveMeasure)
]

const STEP_4_RULES: ReadonlyArray<SuffixRule> = [
  ...["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent"].map((suffix) =>
    rule(suffix, "", measureAboveOne)
  ),
  rule("ion", "", (stem) => measureAboveOne(stem) && (stem.endsWith("s") || stem.endsWith("t"))),
  ...["ou", "ism", "ate", "iti", "ous", "ive", "ize"].map((suffix) => rule(suffix, "", measureAboveOne))
]

/** Step 5a: drop a final e when m > 1, or when m = 1 and the stem does not end cvc. */
const step5a = (word: string): string => {
  if (!word.endsWith("e")) return word
  const stem = word.slice(0, -1)
  const m = measure(stem)
  return m > 1 || (m === 1 && !endsWithCvc(stem)) ? stem : word
}

/** Step 5b: -ll → -l when m > 1 (the measure is taken on the word minus one l). */
const step5b = (word: string): string =>
  word.endsWith("ll") && measureAboveOne(word.slice(0, -1)) ? word.slice(0, -1) : word

/**
 * Stems one word like nltk 3.8 `PorterStemmer().stem(word)` (mode `NLTK_EXTENSIONS`). The word
 * is lowercased first, as nltk does.
 *
 * @example
 * ```ts
 * import { porterStem } from "@refine-af/text"
 * porterStem("generalizations") // "gener"
 * porterStem("dying") // "die"
 * ```
 */
export const porterStem = (word: string): string => {
  const lower = word.toLowerCase()
  const irregular = IRREGULAR_FORMS.get(lower)
  if (irregular !== undefined) return irregular
  if (lower.length <= 2) return lower
  let stem = step1c(step1b(step1a(lower)))
  stem = applyFirstMatchingRule(step2(stem), STEP_3_RULES)
  stem = applyFirstMatchingRule(stem, STEP_4_RULES)
  return step5b(step5a(stem))
}
