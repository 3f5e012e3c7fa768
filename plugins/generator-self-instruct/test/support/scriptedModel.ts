/**
 * Test doubles of the LanguageModel service: a scripted one (a function of
 * the request decides the reply) and a synthetic instruction writer whose
 * numbered lists look like a real model's bootstrapping output. Both are
 * deterministic in (prompt, seed), as the LanguageModel contract requires.
 */
import { Effect } from "effect"
import type { GenerationRequest } from "@refine-af/core"
import { scriptedLanguageModel, type ScriptedReply } from "@refine-af/testing"

export type { ScriptedReply }

/** The shared scripted model, with this suite's argument order (respond, id). */
export const scriptedModel = (respond: (request: GenerationRequest, index: number) => ScriptedReply, id = "scripted-test-model") =>
  scriptedLanguageModel(respond, { id })

const mix = (a: number, b: number): number => {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

const hashText = (text: string): number => {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

const TEMPLATES = [
  "Describe how {a} can change the way {b} works for {c}.",
  "Give three tips for {a} when dealing with {b} during {c}.",
  "Explain the difference between {a} and {b} to someone interested in {c}.",
  "Write a short story where {a} meets {b} near {c}.",
  "List the main risks of {a} for {b} and suggest a fix involving {c}.",
  "Summarize the argument that {a} matters more than {b} in {c}.",
  "Suggest a weekend plan combining {a}, {b} and {c}.",
  "Classify the sentence as about {a}, {b} or {c}.",
  "Compose a polite email asking about {a} and {b} before {c}.",
  "Compare {a} with {b} and recommend one for {c}."
]
const WORDS = (
  "budgets gardens rivers teenagers volcanoes bicycles libraries markets vaccines robots poetry chess " +
  "glaciers elections bakeries satellites orchestras harbors deserts startups museums forests trains " +
  "recipes interviews batteries festivals bridges insects planets languages schools hospitals farmers " +
  "pianos umbrellas telescopes tournaments volunteers neighbors kitchens airports lighthouses islands"
).split(" ")

/** One synthetic instruction, a pure function of `seed`. */
export const syntheticInstruction = (seed: number): string => {
  const template = TEMPLATES[seed % TEMPLATES.length]!
  const pick = (slot: number) => WORDS[mix(seed, slot) % WORDS.length]!
  return template.replace("{a}", pick(1)).replace("{b}", pick(2)).replace("{c}", pick(3))
}

/**
 * A model that continues a bootstrapping prompt ("...8. X\n9.") with items
 * 9–15, like a well-behaved LM stopped at "\n16". `garnish` may decorate the
 * list (adversarial tests).
 */
export const syntheticInstructionModel = (itemsPerResponse = 7) =>
  scriptedModel((request) => {
    const prompt = typeof request.prompt === "string" ? request.prompt : request.prompt.map((m) => m.content).join("\n")
    const base = mix(hashText(prompt), request.params.seed ?? 0)
    const lines: Array<string> = []
    for (let item = 0; item < itemsPerResponse; item++) {
      const text = syntheticInstruction(mix(base, item))
      lines.push(item === 0 ? ` ${text}` : `${9 + item}. ${text}`)
    }
    return { text: lines.join("\n") }
  }, "synthetic-instruction-model")

/**
 * A model for whole-pipeline tests: answers each of the plugin's prompt kinds
 * in its expected format (bootstrapping lists, Yes/No, input-first examples,
 * output-first labels), deterministically in (prompt, seed).
 */
export const pipelineModel = () => {
  const lists = syntheticInstructionModel()
  return scriptedModel((request, index) => {
    const prompt = String(request.prompt)
    const h = mix(hashText(prompt), request.params.seed ?? 0)
    if (prompt.endsWith("Classification:")) return { text: h % 4 === 0 ? " Yes" : " No" }
    if (prompt.endsWith("Example 1\n")) {
      return { text: `Input: case ${h % 97}\nOutput: answer ${h % 89}\nExample 2\nInput: case ${(h >>> 8) % 97}\nOutput: answer ${(h >>> 8) % 89}` }
    }
    if (prompt.endsWith("Class label:")) return { text: ` Alpha\nInput: sample ${h % 50}\nClass label: Beta\nInput: sample ${50 + (h % 50)}` }
    let reply = ""
    Effect.runSync(Effect.map(lists.generate([request]), ([generation]) => (reply = generation!.text)))
    void index
    return { text: reply }
  }, "pipeline-test-model")
}
