/**
 * What an RL trainer (ppo/train, grpo/train, rloo/train) leaves for the run report (see the report
 * conventions in `@refine-af/core`): `curves.jsonl` — reward, KL, loss and entropy per
 * iteration, from every iteration record, durable ones of an interrupted attempt included —
 * and a few rollouts of the last iteration with their reward breakdown, for the stage
 * summary's `data.report` (outside the output hash). The final checkpoint also keeps the last
 * iteration's metrics and those samples (`withFinalOutcome`), so a resume that starts past the
 * last iteration (killed after that checkpoint, before the stage committed) returns the same
 * summary as an uninterrupted run.
 *
 * @example
 * ```ts
 * import { rolloutSamples } from "@refine-af/training"
 * const samples = rolloutSamples(5, ["Task: sort 3 1 2"], ["1 2 3"], [{ value: 0.8, parts: { Pass: 1 } }])
 * ```
 */
import { Effect } from "effect"
import { curvePointsOf, evenlySpaced, writeCurves, type Json, type JsonRecord, type RolloutReward, type StageContext } from "@refine-af/core"

/** Curves of an RL trainer, in the order the report shows them. */
export const rlCurveNames: ReadonlyArray<string> = ["reward_mean", "kl", "loss", "entropy"]

/** Rollouts kept as samples per run. */
const sampleCount = 3
const promptChars = 300

/** A few of one iteration's rollouts (evenly spread) with prompt, completion, reward and its parts. */
export const rolloutSamples = (
  step: number,
  prompts: ReadonlyArray<string>,
  completions: ReadonlyArray<string>,
  rewards: ReadonlyArray<RolloutReward>
): Array<JsonRecord> =>
  evenlySpaced(completions.map((_, index) => index), sampleCount).map((index) => {
    const prompt = prompts[index] ?? ""
    return {
      group: `rollouts of iteration ${step + 1}`,
      prompt: prompt.length > promptChars ? `…${prompt.slice(-promptChars)}` : prompt,
      completion: completions[index] ?? "",
      reward: rewards[index]?.value ?? null,
      ...(rewards[index]?.parts === undefined ? {} : { parts: rewards[index]!.parts! })
    }
  })

/** Writes `curves.jsonl` from the durable records of earlier attempts and the ones appended in this one. */
export const writeIterationCurves = (ctx: Pick<StageContext<unknown, unknown>, "name" | "dir" | "output">, appended: ReadonlyArray<JsonRecord>) =>
  Effect.gen(function* () {
    const durable = yield* ctx.output.resumed()
    yield* writeCurves(ctx, curvePointsOf([...durable, ...appended], rlCurveNames))
  })

/** What a finished RL stage returns besides its files: the last iteration's metrics and the report's samples. */
export interface FinalOutcome {
  readonly last: Readonly<Record<string, number>>
  readonly samples: ReadonlyArray<JsonRecord>
}

/** The trainer state of the final checkpoint: `state` with the stage's final outcome beside it. */
export const withFinalOutcome = (state: JsonRecord, outcome: FinalOutcome): JsonRecord => ({ ...state, final: { last: { ...outcome.last }, samples: [...outcome.samples] } })

/** The final outcome a checkpoint's trainer state kept, if it is the final checkpoint's. */
export const finalOutcomeOf = (stored: Json | undefined): FinalOutcome | undefined => {
  if (stored === null || typeof stored !== "object" || Array.isArray(stored)) return undefined
  const final = (stored as Record<string, Json>)["final"]
  if (final === null || typeof final !== "object" || Array.isArray(final)) return undefined
  const { last, samples } = final as Record<string, Json>
  if (last === null || typeof last !== "object" || Array.isArray(last) || !Array.isArray(samples)) return undefined
  if (!Object.values(last).every((value) => typeof value === "number")) return undefined
  return { last: last as Record<string, number>, samples: samples.filter((sample): sample is JsonRecord => sample !== null && typeof sample === "object" && !Array.isArray(sample)) }
}
