/**
 * The bootstrapping loop's state and one step of it, free of I/O: which
 * prompts step k sends, and which of the model's continuations join the pool.
 * The stage (`stage.ts`) adds the model calls, the record stream and events.
 *
 * @example
 * ```ts
 * import { BootstrapEngine } from "./engine.ts"
 * declare const engine: BootstrapEngine
 * const prompts = engine.prompts(0)                     // what step 0 asks
 * // ... generate continuations for prompts ...
 * // const records = yield* engine.absorb(0, prompts, generations)
 * ```
 */
import { Effect } from "effect"
import type { Generation, JsonRecord, SamplingParams } from "@refine-af/core"
import { PoolWorkerError, RougePool, type FilterDecision } from "@refine-af/text"
import { randomFor, requestSeed, seedFor } from "../random.ts"
import type { SeedTask } from "../seeds/SeedTask.ts"
import { requestParams } from "../options.ts"
import { instructionRejections, makeInstructionFilter, type InstructionRejection } from "./filters.ts"
import type { BootstrapOptions } from "./options.ts"
import { parseNumberedInstructions } from "./parse.ts"
import { encodeBootstrapPrompt } from "./prompt.ts"
import { samplePromptInstructions, type PooledInstruction, type ShownInstruction } from "./promptSampler.ts"

/** One prompt of a step, with what it showed (for lineage). */
export interface BootstrapPrompt {
  readonly prompt: string
  readonly params: SamplingParams
  readonly shown: ReadonlyArray<ShownInstruction>
}

/** Counts since the engine started: responses, candidates, acceptances and each rejection reason. */
export type BootstrapCounts = Record<"responses" | "length_cut_responses" | "candidates" | "accepted" | InstructionRejection, number>

const emptyCounts = (): BootstrapCounts => ({
  responses: 0,
  length_cut_responses: 0,
  candidates: 0,
  accepted: 0,
  ...(Object.fromEntries(instructionRejections.map((reason) => [reason, 0])) as Record<InstructionRejection, number>)
})

/** One parsed candidate or one dropped response, in the order the model produced them. */
type Outcome =
  | { readonly kind: "length_cut" }
  | { readonly kind: "response" }
  | { readonly kind: "candidate"; readonly text: string; readonly promptIndex: number; readonly rejection: InstructionRejection | undefined; screened?: FilterDecision }

/** A rejected candidate kept for the run report, with why it was dropped. */
export interface RejectedSample {
  readonly instruction: string
  readonly reason: InstructionRejection
  /** For `too_similar`: the pool instruction it was closest to, and the ROUGE-L score. */
  readonly most_similar?: string
  readonly similarity?: number
}

/** Rejected candidates kept per reason (the first ones this engine saw). */
const rejectedSamplesPerReason = 2

/** The instruction pool and generated list, grown step by step. */
export class BootstrapEngine {
  /** Seeds + accepted instructions, for the ROUGE-L novelty check. */
  readonly pool: RougePool
  readonly generated: Array<PooledInstruction> = []
  readonly counts: BootstrapCounts = emptyCounts()
  /** A few rejected candidates per reason, in the order they came (for the run report). */
  readonly rejectedSamples: Array<RejectedSample> = []
  private readonly seedInstructions: ReadonlyArray<PooledInstruction>
  private readonly reject: ReturnType<typeof makeInstructionFilter>

  constructor(
    seeds: ReadonlyArray<SeedTask>,
    private readonly options: BootstrapOptions,
    private readonly seed: number,
    private readonly modelId: string
  ) {
    this.seedInstructions = seeds.map((task) => ({ id: task.id, instruction: task.instruction }))
    this.pool = new RougePool({ workers: options.workers })
    for (const task of this.seedInstructions) this.pool.add(task.instruction)
    this.reject = makeInstructionFilter(options.filters)
  }

  /** True once `target` instructions have been accepted. */
  get done(): boolean {
    return this.generated.length >= this.options.target
  }

  /** The prompts of step `step`: a pure function of the stage seed, the step and the pool so far. */
  prompts(step: number): Array<BootstrapPrompt> {
    const random = randomFor(seedFor(this.seed, step))
    return Array.from({ length: this.options.batchSize }, (_, index) => {
      const shown = samplePromptInstructions(this.seedInstructions, this.generated, this.options, random)
      return {
        prompt: encodeBootstrapPrompt(
          shown.map((item) => item.instruction),
          this.options.promptHeader
        ),
        params: requestParams(this.options.sampling, requestSeed(this.seed, step, index)),
        shown
      }
    })
  }

  /**
   * Filters the continuations of step `step`, grows the pool, and returns the
   * accepted records in order. Candidates that pass the cheap filters are
   * screened against the pool in one ordered batch (each sees those accepted
   * before it); once `target` is reached the rest of the step is ignored.
   */
  absorb(
    step: number,
    prompts: ReadonlyArray<BootstrapPrompt>,
    generations: ReadonlyArray<Generation>
  ): Effect.Effect<Array<JsonRecord>, PoolWorkerError> {
    const outcomes: Array<Outcome> = []
    generations.forEach((generation, promptIndex) => {
      // The paper drops a response cut by the token limit entirely: its last item is truncated.
      if (generation.finishReason === "length") return void outcomes.push({ kind: "length_cut" })
      outcomes.push({ kind: "response" })
      for (const text of parseNumberedInstructions(generation.text)) {
        outcomes.push({ kind: "candidate", text, promptIndex, rejection: this.reject(text) })
      }
    })
    const toScreen = outcomes.flatMap((outcome) => (outcome.kind === "candidate" && outcome.rejection === undefined ? [outcome] : []))
    const { rougeThreshold, neighbours, meanSimilarity } = this.options.filters
    return Effect.tryPromise({
      try: () =>
        this.pool.filterBatchAsync(
          toScreen.map((candidate) => candidate.text),
          // Without neighbours or means only the verdict is needed, and the pool may skip hopeless pairs.
          neighbours === 0 && !meanSimilarity
            ? { threshold: rougeThreshold, decisionOnly: true }
            : { threshold: rougeThreshold, topK: neighbours, meanSimilarity }
        ),
      catch: (error) =>
        error instanceof PoolWorkerError
          ? error
          : new PoolWorkerError({ message: `ROUGE-L pool failed: ${String(error)}. Fix: retry with workers: 0.` })
    }).pipe(
      Effect.map((decisions) => {
        toScreen.forEach((candidate, index) => (candidate.screened = decisions[index]))
        return this.tally(step, prompts, outcomes)
      })
    )
  }

  /** Counts the outcomes in order and turns acceptances into records, up to the target. */
  private tally(step: number, prompts: ReadonlyArray<BootstrapPrompt>, outcomes: ReadonlyArray<Outcome>): Array<JsonRecord> {
    const records: Array<JsonRecord> = []
    for (const outcome of outcomes) {
      if (this.done) break
      if (outcome.kind !== "candidate") {
        this.counts.responses++
        if (outcome.kind === "length_cut") this.counts.length_cut_responses++
        continue
      }
      this.counts.candidates++
      if (outcome.rejection !== undefined) {
        this.counts[outcome.rejection]++
        this.keepRejected({ instruction: outcome.text, reason: outcome.rejection })
        continue
      }
      const screening = outcome.screened!
      if (!screening.accepted) {
        this.counts.too_similar++
        const closest = screening.top[0]
        this.keepRejected({ instruction: outcome.text, reason: "too_similar", ...(closest ? { most_similar: closest.text, similarity: closest.score } : {}) })
        continue
      }
      const id = `generated_${this.generated.length}`
      const shown = prompts[outcome.promptIndex]?.shown ?? []
      this.counts.accepted++
      this.generated.push({ id, instruction: outcome.text })
      records.push({
        id,
        instruction: outcome.text,
        step,
        prompt_index: outcome.promptIndex,
        prompt_seed_ids: shown.filter((item) => item.source === "seed").map((item) => item.id),
        prompt_generated_ids: shown.filter((item) => item.source === "generated").map((item) => item.id),
        most_similar: screening.top.map((neighbour) => ({ instruction: neighbour.text, score: neighbour.score })),
        avg_similarity_score: screening.meanSimilarity ?? null,
        model: this.modelId
      })
    }
    return records
  }

  private keepRejected(sample: RejectedSample): void {
    if (this.rejectedSamples.filter((kept) => kept.reason === sample.reason).length < rejectedSamplesPerReason) this.rejectedSamples.push(sample)
  }

  /** Re-adds a durable record of an earlier attempt (resume). */
  restore(record: JsonRecord): void {
    const instruction = String(record["instruction"])
    this.pool.add(instruction)
    this.generated.push({ id: String(record["id"]), instruction })
  }

  /** Stops the pool's worker threads. */
  close(): Effect.Effect<void> {
    return Effect.promise(() => this.pool.close())
  }
}
