/**
 * Measures how often a language model answers the pipeline's prompts in the
 * pipeline's formats, judged by the pipeline's own parsers and filters:
 *
 * - bootstrap: share of replies with at least one new instruction that passes
 *   the paper's filters and ROUGE-L ≤ 0.7 against the seed pool (and the share
 *   of all candidate instructions accepted);
 * - classify: share of answers that parse as Yes or No;
 * - input-first / output-first: share of replies that parse into at least one
 *   instance with no unparsable block;
 * - superni: share of non-empty answers.
 *
 * Sampling follows the stages' defaults, with shorter token limits.
 */
import type { LanguageModelService } from "@refine-af/core"
import type { SuperNiTask } from "@refine-af/eval-superni"
import { makePromptEncoder } from "@refine-af/eval-superni"
import {
  builtinTemplates, defaultBootstrapStop, defaultInstructionFilters, encodeClassifyPrompt, fillTemplate, makeInstructionFilter,
  parseInputFirst, parseNumberedInstructions, parseOutputFirst, parseYesNo, type SeedTask
} from "@refine-af/generator-self-instruct"
import { rougeLMax } from "@refine-af/text"
import { Effect } from "effect"
import { bootstrapPrompts, HELD_OUT_CLASSIFICATION, HELD_OUT_GENERATION } from "./prompt-set.ts"

/** Per format: prompts sent and well-formed replies. */
export interface FormatScore {
  readonly prompts: number
  readonly wellFormed: number
  readonly share: number
  /** A few replies, for the README. */
  readonly samples: ReadonlyArray<string>
}

/** The whole measurement. */
export interface WellFormedness {
  readonly bootstrap: FormatScore & { readonly candidates: number; readonly accepted: number }
  /** Also: answers matching the held-out instruction's true kind (a correctness check, not well-formedness). */
  readonly classify: FormatScore & { readonly correct: number }
  readonly inputFirst: FormatScore
  readonly outputFirst: FormatScore
  readonly superni: FormatScore
}

const score = (oks: ReadonlyArray<boolean>, texts: ReadonlyArray<string>): FormatScore => {
  const wellFormed = oks.filter(Boolean).length
  return { prompts: oks.length, wellFormed, share: oks.length === 0 ? 0 : wellFormed / oks.length, samples: texts.slice(0, 3) }
}

/** Runs the fixed prompt set through `lm`; `bootstrapCount` bootstrap prompts (8 seeds each). */
export const measureWellFormedness = (lm: LanguageModelService, seeds: ReadonlyArray<SeedTask>, tasks: ReadonlyArray<SuperNiTask>, bootstrapCount = 8) =>
  Effect.gen(function* () {
    const ask = (prompts: ReadonlyArray<string>, params: Parameters<LanguageModelService["generate"]>[0][number]["params"]) =>
      Effect.map(lm.generate(prompts.map((prompt) => ({ prompt, params }))), (out) => out.map((g) => g.text))

    const pool = seeds.map((s) => s.instruction)
    const reject = makeInstructionFilter(defaultInstructionFilters)
    const bootReplies = yield* ask(bootstrapPrompts(seeds, bootstrapCount), { maxNewTokens: 160, temperature: 0.7, topP: 0.5, presencePenalty: 2, stop: defaultBootstrapStop, seed: 1 })
    let candidates = 0
    let accepted = 0
    const bootOk = bootReplies.map((reply) => {
      const found = parseNumberedInstructions(reply)
      candidates += found.length
      const good = found.filter((instruction) => reject(instruction) === undefined && rougeLMax(instruction, pool) <= 0.7)
      accepted += good.length
      return good.length > 0
    })

    const instructions = [...HELD_OUT_CLASSIFICATION, ...HELD_OUT_GENERATION]
    const classReplies = yield* ask(instructions.map(encodeClassifyPrompt), { maxNewTokens: 3, temperature: 0, stop: ["\n"] })
    const instanceParams = { maxNewTokens: 96, temperature: 0, presencePenalty: 1.5, stop: ["Task:"] }
    const inputReplies = yield* ask(HELD_OUT_GENERATION.map((i) => fillTemplate(builtinTemplates.inputFirst, i)), { ...instanceParams, stop: ["Task:", "Example 3"] })
    const outputReplies = yield* ask(HELD_OUT_CLASSIFICATION.map((i) => fillTemplate(builtinTemplates.outputFirst, i)), instanceParams)
    const encode = yield* makePromptEncoder({ positiveExamples: 0 })
    const superniPrompts = tasks.flatMap((task) => task.instances.slice(0, 2).map((instance) => encode(task, instance)))
    const superniReplies = yield* ask(superniPrompts, { maxNewTokens: 24, temperature: 0, stop: ["\n\n"] })

    const parsedOk = (parsed: { instances: ReadonlyArray<unknown>; unparsable: number }) => parsed.instances.length > 0 && parsed.unparsable === 0
    return {
      bootstrap: { ...score(bootOk, bootReplies), candidates, accepted },
      classify: {
        ...score(classReplies.map((a) => parseYesNo(a) !== undefined), classReplies),
        correct: classReplies.filter((a, i) => parseYesNo(a) === i < HELD_OUT_CLASSIFICATION.length).length
      },
      inputFirst: score(inputReplies.map((r) => parsedOk(parseInputFirst(r))), inputReplies),
      outputFirst: score(outputReplies.map((r) => parsedOk(parseOutputFirst(r))), outputReplies),
      superni: score(superniReplies.map((r) => r.trim() !== ""), superniReplies)
    } satisfies WellFormedness
  })
