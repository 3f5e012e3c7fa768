/** Shared helpers: the table policy as the stage's model, and a stage run returning records, events and the adapter bytes. */
import { readFileSync, existsSync } from "node:fs"
import * as nodePath from "node:path"
import type { JsonRecord } from "@refine-af/core"
import { memoryInput, memoryStageContext, memoryWriter, runStageExit, tablePolicyModel } from "@refine-af/testing"
import { Cause, Exit } from "effect"
import { sftStage } from "../src/index.ts"

/** The table policy is a bigram model: each answer is learnable from the prompt's last character, and no two answers share a bigram. */
export const qa = { prompt: "q {instruction}" }
export const facts: Array<JsonRecord> = [
  { instruction: "a1", input: "", output: "xq" },
  { instruction: "b2", input: "", output: "wz" },
  { instruction: "c3", input: "", output: "vk" },
  { instruction: "d4", input: "", output: "uj" }
]

export interface SftRun {
  readonly ok: boolean
  readonly error: string
  readonly records: Array<JsonRecord>
  readonly adapter: Buffer | undefined
  readonly dir: string
}

export const runSft = async (options: Record<string, unknown>, fields: { records?: ReadonlyArray<JsonRecord>; stateDir?: string; resumed?: ReadonlyArray<JsonRecord>; crashAfter?: number; contextLength?: number } = {}): Promise<SftRun> => {
  const policy = tablePolicyModel({ seed: 3, ...(fields.contextLength ? { contextLength: fields.contextLength } : {}) })
  const output = memoryWriter(fields.resumed ?? [], fields.crashAfter === undefined ? {} : { crashAfter: fields.crashAfter })
  const { ctx } = memoryStageContext({
    name: "sft",
    options: options as never,
    uses: { policy },
    seed: 7,
    inputs: { data: memoryInput("instances", fields.records ?? facts) },
    output,
    ...(fields.stateDir ? { stateDir: fields.stateDir } : {})
  })
  const exit = await runStageExit(sftStage, ctx)
  const file = nodePath.join(ctx.dir, "adapter", "adapter_model.safetensors")
  return {
    ok: Exit.isSuccess(exit),
    error: Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "",
    records: output.committed,
    adapter: existsSync(file) ? readFileSync(file) : undefined,
    dir: ctx.dir
  }
}

/** Records without the wall-clock field. */
export const deterministicPart = (records: ReadonlyArray<JsonRecord>) => records.map(({ tokens_per_second: _, ...rest }) => rest)
