/**
 * The letter-pattern predicates of Porter (1980): consonant/vowel classes, the measure m of
 * [C](VC){m}[V], *v*, *d and *o. Inputs are lowercase ASCII words (digits count as consonants,
 * as they do in nltk, because only a, e, i, o, u and a vowel-like y are vowels).
 */

const isPlainVowel = (letter: string): boolean =>
  letter === "a" || letter === "e" || letter === "i" || letter === "o" || letter === "u"

/** Porter's consonant: not a, e, i, o, u, and not a `y` that follows a consonant. */
export const isConsonantAt = (word: string, index: number): boolean => {
  const letter = word[index]
  if (letter === undefined || isPlainVowel(letter)) return false
  if (letter !== "y") return true
  // y after a consonant sounds like a vowel ("happy"); at the start or after a vowel it is a consonant ("yes", "toy").
  return index === 0 ? true : !isConsonantAt(word, index - 1)
}

/** Porter's m: the number of vowel-run → consonant-run transitions in the word. */
export const measure = (stem: string): number => {
  let count = 0
  let previousWasVowel = false
  for (let index = 0; index < stem.length; index++) {
    const consonant = isConsonantAt(stem, index)
    if (consonant && previousWasVowel) count++
    previousWasVowel = !consonant
  }
  return count
}

/** Porter's *v*: the stem contains a vowel. */
export const containsVowel = (stem: string): boolean => {
  for (let index = 0; index < stem.length; index++) if (!isConsonantAt(stem, index)) return true
  return false
}

/** Porter's *d: the word ends in a doubled consonant ("-tt", "-ss"). */
export const endsWithDoubleConsonant = (word: string): boolean => {
  const last = word.length - 1
  return last >= 1 && word[last] === word[last - 1] && isConsonantAt(word, last)
}

/**
 * Porter's *o: ends consonant-vowel-consonant with the last not w, x or y ("hop", "fil").
 * nltk's extension also counts a two-letter vowel-consonant word ("at", "ow") so that short
 * stems get their final e back ("ate"-like restorations in step 1b).
 */
export const endsWithCvc = (word: string): boolean => {
  const n = word.length
  if (n >= 3) {
    const last = word[n - 1]
    return isConsonantAt(word, n - 3) && !isConsonantAt(word, n - 2) && isConsonantAt(word, n - 1) &&
      last !== "w" && last !== "x" && last !== "y"
  }
  return n === 2 && !isConsonantAt(word, 0) && isConsonantAt(word, 1)
}
