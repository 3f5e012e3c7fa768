import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { porterStem, rougeTokenize } from "../src/index.ts"
import { makeInstructionTexts } from "./support/instruction-texts.ts"

// Optional cross-check against the real nltk (Debian python3-nltk 3.8, the version behind the
// golden file). Skipped with a printed reason when that Python/nltk is not installed.
const PYTHON = "/usr/bin/python3"
const STEM_LINES = "import sys\nfrom nltk.stem.porter import PorterStemmer\ns = PorterStemmer()\nfor w in sys.stdin.read().split('\\n'): print(s.stem(w))"

const probe = spawnSync(PYTHON, ["-c", "import nltk; print(nltk.__version__)"], { encoding: "utf8" })
const nltkVersion = probe.status === 0 ? probe.stdout.trim() : undefined
if (nltkVersion === undefined) console.log(`nltk parity skipped: ${PYTHON} with nltk not available (apt-get install python3-nltk)`)

describe.skipIf(nltkVersion === undefined)("porterStem against the installed nltk", () => {
  it("stems a varied vocabulary exactly like nltk's PorterStemmer()", () => {
    const generated = makeInstructionTexts(300, { seed: 99, lexiconSize: 2000 }).flatMap((text) => rougeTokenize(text))
    const english = ("relational conditional rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli " +
      "vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti " +
      "triplicate formative formalize electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic " +
      "adjustable defensible irritant replacement adjustment dependent adoption homologou communism activate angulariti " +
      "homologous effective bowdlerize probate rate cease controll roll generously archaeology theology apologies agreed " +
      "bleed plastered bled motoring sing conflated troubled sized hopping tanned falling hissing fizzed failing filing " +
      "happy sky skies dying lying tying news innings outings cannings howe proceed exceed succeed owed eyed ied dyed").split(" ")
    const words = [...new Set([...english, ...generated])]
    const result = spawnSync(PYTHON, ["-c", STEM_LINES], { input: words.join("\n"), encoding: "utf8" })
    expect(result.status).toBe(0)
    const nltkStems = result.stdout.split("\n").slice(0, words.length)
    const mismatches = words.flatMap((word, k) => (porterStem(word) === nltkStems[k] ? [] : [{ word, ours: porterStem(word), nltk: nltkStems[k] }]))
    expect(mismatches).toEqual([])
  })
})
