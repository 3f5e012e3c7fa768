/**
 * Chooses the instructions a bootstrapping prompt shows: up to
 * `generatedPerPrompt` (2) from the model's accepted instructions, the rest of
 * the `promptInstructions` (8) from the human seeds, shuffled together.
 *
 * @example
 * ```ts
 * import { randomFor } from "../random.ts"
 * import { samplePromptInstructions } from "./promptSampler.ts"
 * const seeds = Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, instruction: `Seed task ${i}` }))
 * samplePromptInstructions(seeds, [], { promptInstructions: 8, generatedPerPrompt: 2 }, randomFor(1)).length // 8
 * ```
 */
import { sampleWithoutReplacement, shuffled } from "../random.ts"

/** An instruction with the id that lineage records. */
export interface PooledInstruction {
  readonly id: string
  readonly instruction: string
}

/** A shown instruction and where it came from. */
export interface ShownInstruction extends PooledInstruction {
  readonly source: "seed" | "generated"
}

/** How many instructions a prompt shows, and how many of them are generated ones. */
export interface PromptMix {
  /** Instructions per prompt (8). */
  readonly promptInstructions: number
  /** Of those, how many come from the generated pool once it has any (2). */
  readonly generatedPerPrompt: number
}

/** The shown instructions of one prompt, in prompt order. Fewer than `promptInstructions` only when the pools are small. */
export const samplePromptInstructions = (
  seeds: ReadonlyArray<PooledInstruction>,
  generated: ReadonlyArray<PooledInstruction>,
  mix: PromptMix,
  random: () => number
): Array<ShownInstruction> => {
  const fromGenerated = sampleWithoutReplacement(generated, Math.min(mix.generatedPerPrompt, mix.promptInstructions), random)
  const fromSeeds = sampleWithoutReplacement(seeds, mix.promptInstructions - fromGenerated.length, random)
  return shuffled(
    [
      ...fromGenerated.map((item): ShownInstruction => ({ ...item, source: "generated" })),
      ...fromSeeds.map((item): ShownInstruction => ({ ...item, source: "seed" }))
    ],
    random
  )
}
