/**
 * Checkpoints and PEFT export of the table policy. A checkpoint is one JSON
 * file written atomically (temp file + rename): float64 numbers round-trip
 * exactly through JSON, so a resumed session continues bitwise identically.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import type { Json } from "@refine-af/core"
import { PolicyError, type LoraConfig, type Restored } from "@refine-af/training"
import { paramNames } from "./table-program.ts"
import type { TableWeights } from "./table-weights.ts"

export const checkpointFile = "policy-checkpoint.json"

interface CheckpointJson {
  readonly format: "refine-af/table-policy-checkpoint@1"
  readonly modelId: string
  readonly lora: LoraConfig
  readonly valueHead: boolean
  readonly step: number
  readonly rng: number
  readonly params: Record<string, Array<number>>
  readonly moments: Record<string, Array<number>>
  readonly trainerState?: Json
}

const checkpointError = (message: string, fix: string) => (cause: unknown) =>
  new PolicyError({ reason: "Checkpoint", message: `${message}: ${cause instanceof Error ? cause.message : String(cause)}`, fix })

/** Writes `file` atomically. */
const writeAtomic = (file: string, data: string | Uint8Array) => {
  mkdirSync(path.dirname(file), { recursive: true })
  const temp = `${file}.tmp-${process.pid}`
  writeFileSync(temp, data)
  renameSync(temp, file)
}

export const writeCheckpoint = (w: TableWeights, dir: string, meta: { modelId: string; lora: LoraConfig; valueHead: boolean }, trainerState: Json | undefined) =>
  Effect.try({
    try: () => {
      const body: CheckpointJson = {
        format: "refine-af/table-policy-checkpoint@1",
        ...meta,
        step: w.step,
        rng: w.rng.state(),
        params: Object.fromEntries([...w.params].map(([k, v]) => [k, Array.from(v)])),
        moments: Object.fromEntries([...w.moments].map(([k, v]) => [k, Array.from(v)])),
        ...(trainerState === undefined ? {} : { trainerState })
      }
      writeAtomic(path.join(dir, checkpointFile), JSON.stringify(body))
    },
    catch: checkpointError(`cannot write a checkpoint into ${dir}`, "check that the folder is writable and the disk not full")
  })

/** Restores a checkpoint into `w` when `dir` holds one; undefined when it holds none. */
export const readCheckpoint = (w: TableWeights, dir: string, meta: { modelId: string; lora: LoraConfig; valueHead: boolean }): Effect.Effect<Restored | undefined, PolicyError> =>
  Effect.gen(function* () {
    const file = path.join(dir, checkpointFile)
    if (!existsSync(file)) return undefined
    const body = yield* Effect.try({ try: () => JSON.parse(readFileSync(file, "utf8")) as CheckpointJson, catch: checkpointError(`cannot read checkpoint ${file}`, "delete the state folder to start over") })
    const same = body.modelId === meta.modelId && JSON.stringify(body.lora) === JSON.stringify(meta.lora) && body.valueHead === meta.valueHead
    if (!same)
      return yield* new PolicyError({ reason: "Checkpoint", message: `checkpoint ${file} was written for model ${body.modelId} with lora ${JSON.stringify(body.lora)}, valueHead ${body.valueHead}; this session differs`, fix: "resume with the same model and options, or delete the state folder" })
    w.params.clear()
    for (const [k, v] of Object.entries(body.params)) w.params.set(k, Float64Array.from(v))
    w.moments.clear()
    for (const [k, v] of Object.entries(body.moments)) w.moments.set(k, Float64Array.from(v))
    w.step = body.step
    w.rng.restore(body.rng)
    return { step: body.step, ...(body.trainerState === undefined ? {} : { trainerState: body.trainerState }) }
  })

/** A minimal safetensors file of float64 tensors. */
const safetensors = (tensors: Record<string, { shape: ReadonlyArray<number>; data: Float64Array }>): Uint8Array => {
  const header: Record<string, unknown> = {}
  let offset = 0
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: "F64", shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] }
    offset += t.data.byteLength
  }
  let json = JSON.stringify(header)
  while ((json.length + 8) % 8 !== 0) json += " "
  const head = Buffer.from(json, "utf8")
  const out = Buffer.alloc(8 + head.length + offset)
  out.writeBigUInt64LE(BigInt(head.length), 0)
  head.copy(out, 8)
  let at = 8 + head.length
  for (const t of Object.values(tensors)) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at)
    at += t.data.byteLength
  }
  return out
}

export const exportPeft = (w: TableWeights, dir: string, meta: { modelId: string; lora: LoraConfig }) =>
  Effect.try({
    try: () => {
      const config = {
        peft_type: "LORA",
        base_model_name_or_path: meta.modelId,
        r: meta.lora.rank,
        lora_alpha: meta.lora.alpha,
        lora_dropout: meta.lora.dropout,
        use_rslora: meta.lora.rsLora,
        target_modules: [...meta.lora.targets],
        bias: "none",
        task_type: "CAUSAL_LM"
      }
      writeAtomic(path.join(dir, "adapter_config.json"), JSON.stringify(config, null, 2))
      writeAtomic(
        path.join(dir, "adapter_model.safetensors"),
        safetensors({
          "base_model.model.table.lora_A.weight": { shape: [w.rank, w.vocab], data: w.params.get(paramNames.a)! },
          "base_model.model.table.lora_B.weight": { shape: [w.vocab, w.rank], data: w.params.get(paramNames.b)! }
        })
      )
    },
    catch: checkpointError(`cannot write the adapter into ${dir}`, "check that the folder is writable")
  })
