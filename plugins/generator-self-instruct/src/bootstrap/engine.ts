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
 * // const records = engine.absorb(0, prompts, generations)
 * ```
 */
import type { Generation, JsonRecord, SamplingParams } from "@refine-af/core"
import { randomFor, requestSeed, seedFor } from "../random.ts"
import type { SeedTask } from "../seeds/SeedTask.ts"
import { requestParams } from "../options.ts"
import { instructionRejections, makeInstructionFilter, type InstructionRejection } from "./filters.ts"
import { InstructionPool } from "./instructionPool.ts"
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

/** The instruction pool and generated list, grown step by step. */
export class BootstrapEngine {
  readonly pool: InstructionPool
  readonly generated: Array<PooledInstruction> = []
  readonly counts: BootstrapCounts = emptyCounts()
  private readonly seedInstructions: ReadonlyArray<PooledInstruction>
  private readonly reject: ReturnType<typeof makeInstructionFilter>

  constructor(
    seeds: ReadonlyArray<SeedTask>,
    private readonly options: BootstrapOptions,
    private readonly seed: number,
    private readonly modelId: string
  ) {
    this.seedInstructions = seeds.map((task) => ({ id: task.id, instruction: task.instruction }))
    this.pool = new InstructionPool({ threshold: options.filters.rougeThreshold, neighbours: options.filters.neighbours })
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

  /** Filters the continuations of step `step`, grows the pool, and returns the accepted records in order. */
  absorb(step: number, prompts: ReadonlyArray<BootstrapPrompt>, generations: ReadonlyArray<Generation>): Array<JsonRecord> {
    const records: Array<JsonRecord> = []
    generations.forEach((generation, promptIndex) => {
      if (this.done) return
      this.counts.responses++
      // The paper drops a response cut by the token limit entirely: its last item is truncated.
      if (generation.finishReason === "length") {
        this.counts.length_cut_responses++
        return
      }
      const shown = prompts[promptIndex]?.shown ?? []
      for (const candidate of parseNumberedInstructions(generation.text)) {
        if (this.done) return
        this.counts.candidates++
        const rejection = this.reject(candidate)
        if (rejection !== undefined) {
          this.counts[rejection]++
          continue
        }
        const screening = this.pool.screen(candidate)
        if (screening.tooSimilar) {
          this.counts.too_similar++
          continue
        }
        const id = `generated_${this.generated.length}`
        this.counts.accepted++
        this.pool.add(candidate)
        this.generated.push({ id, instruction: candidate })
        records.push({
          id,
          instruction: candidate,
          step,
          prompt_index: promptIndex,
          prompt_seed_ids: shown.filter((item) => item.source === "seed").map((item) => item.id),
          prompt_generated_ids: shown.filter((item) => item.source === "generated").map((item) => item.id),
          most_similar: screening.neighbours.map((neighbour) => ({ instruction: neighbour.instruction, score: neighbour.score })),
          avg_similarity_score: screening.meanSimilarity,
          model: this.modelId
        })
      }
    })
    return records
  }

  /** Re-adds a durable record of an earlier attempt (resume). */
  restore(record: JsonRecord): void {
    const instruction = String(record["instruction"])
    this.pool.add(instruction)
    this.generated.push({ id: String(record["id"]), instruction })
  }
}
