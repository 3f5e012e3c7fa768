/**
 * Session checkpoints: one safetensors file (`policy-checkpoint.safetensors`)
 * holding every state tensor as F32 — the exact bytes the backend held — and
 * in `__metadata__` the step, random state, LoRA layout, model id and the
 * algorithm's own JSON state. Written to a temporary name and renamed, so a
 * kill mid-write leaves the previous checkpoint intact. Its metadata records
 * a SHA-256 of its content (`sha256`: metadata, tensor table and data; see
 * `quant/content-checksum.ts`), checked in full at every resume (the file is
 * small: LoRA, value head, optimizer moments): a damaged checkpoint cannot be
 * rebuilt, so resuming it is refused, naming the file and the way out. A
 * checkpoint written before checksums were recorded is resumed unchecked.
 */
import { existsSync, renameSync, rmSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import * as nodePath from "node:path"
import type { Json } from "@refine-af/core"
import type { BackendFeed, BackendService } from "@refine-af/tensor"
import { PolicyError, type Restored } from "@refine-af/training"
import { Effect, Exit } from "effect"
import { openSafetensors, writeSafetensors } from "@refine-af/models"
import { CHECKSUM_KEY, checksumOfFile, checksumToWrite } from "../quant/content-checksum.ts"
import { toHost, type PolicyState } from "./policy-state.ts"

export const CHECKPOINT_FILE = "policy-checkpoint.safetensors"
const FORMAT = "refine-af/llama-policy-checkpoint@1"

/** What must match between the checkpoint and the session resuming it. */
export interface CheckpointIdentity {
  readonly modelId: string
  readonly lora: Json
  readonly valueHead: boolean
}

interface Meta extends CheckpointIdentity {
  readonly format: string
  readonly step: number
  readonly rng: number
  readonly moments: ReadonlyArray<string>
  readonly trainerState?: Json
}

const failure = (message: string, fix: string) => (cause: unknown) =>
  new PolicyError({ reason: "Checkpoint", message: `${message}: ${cause instanceof Error ? cause.message : typeof cause === "object" && cause && "message" in cause ? String(cause.message) : String(cause)}`, fix })

export const writeCheckpoint = (backend: BackendService, state: PolicyState, dir: string, identity: CheckpointIdentity, trainerState: Json | undefined) =>
  Effect.gen(function* () {
    const entries: Array<[string, BackendFeed]> = [...state.params, ...state.moments]
    const tensors = []
    for (const [name, feed] of entries) {
      const host = yield* toHost(backend, feed)
      tensors.push({ name, dtype: "F32" as const, shape: host.shape, data: host.data as Float32Array })
    }
    const meta: Meta = { format: FORMAT, ...identity, step: state.step, rng: state.rng.state(), moments: [...state.moments.keys()], ...(trainerState === undefined ? {} : { trainerState }) }
    const file = nodePath.join(dir, CHECKPOINT_FILE)
    const temp = `${file}.tmp-${process.pid}`
    yield* Effect.tryPromise(() => mkdir(dir, { recursive: true }))
    const metadata = { "refine-af": JSON.stringify(meta) }
    yield* writeSafetensors(temp, tensors, { ...metadata, [CHECKSUM_KEY]: checksumToWrite(metadata, tensors) })
    yield* Effect.try(() => renameSync(temp, file))
  }).pipe(
    // Failed or interrupted (Ctrl-C mid-write): the temporary file goes; a kill -9 leaves it to the resume (the core removes stale temps).
    Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => rmSync(nodePath.join(dir, `${CHECKPOINT_FILE}.tmp-${process.pid}`), { force: true })))),
    Effect.mapError(failure(`cannot write a checkpoint into ${dir}`, "check that the folder is writable and the disk is not full"))
  )

/** Loads a checkpoint into `state` when `dir` holds one; undefined when it holds none. */
export const readCheckpoint = (state: PolicyState, dir: string, identity: CheckpointIdentity): Effect.Effect<Restored | undefined, PolicyError> =>
  Effect.gen(function* () {
    const file = nodePath.join(dir, CHECKPOINT_FILE)
    if (!existsSync(file)) return undefined
    const fix = "delete the state folder to start over, or resume with the options it was written with"
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const st = yield* openSafetensors(file).pipe(Effect.mapError(failure(`cannot read checkpoint ${file}`, fix)))
        const checksum = st.header.metadata[CHECKSUM_KEY]
        const content = checksum === undefined ? undefined : yield* Effect.try({ try: () => checksumOfFile(file, st.header), catch: failure(`cannot read checkpoint ${file}`, fix) })
        if (content !== checksum) {
          return yield* new PolicyError({
            reason: "Checkpoint",
            message: `checkpoint ${file} is damaged: its content does not match the checksum recorded when it was written, so it cannot be resumed`,
            fix: `a checkpoint cannot be rebuilt: delete ${dir} (this stage's state folder) and run again to restart the stage from scratch`
          })
        }
        const raw = st.header.metadata["refine-af"]
        const meta = yield* Effect.try({ try: () => JSON.parse(raw ?? "null") as Meta, catch: failure(`checkpoint ${file} has no readable metadata`, fix) })
        if (meta?.format !== FORMAT) return yield* new PolicyError({ reason: "Checkpoint", message: `${file} is not a ${FORMAT} checkpoint`, fix })
        const expected = JSON.stringify(identity)
        const found = JSON.stringify({ modelId: meta.modelId, lora: meta.lora, valueHead: meta.valueHead })
        if (expected !== found) return yield* new PolicyError({ reason: "Checkpoint", message: `checkpoint ${file} was written for ${found}; this session is ${expected}`, fix })
        const read = (name: string) =>
          Effect.map(st.readFloat32(name), (data) => ({ dtype: "float32" as const, shape: [...st.header.tensors.get(name)!.shape], data })).pipe(Effect.mapError(failure(`cannot read tensor ${name} of ${file}`, fix)))
        for (const name of state.params.keys()) {
          if (!st.header.tensors.has(name)) return yield* new PolicyError({ reason: "Checkpoint", message: `checkpoint ${file} lacks ${name}`, fix })
          state.params.set(name, yield* read(name))
        }
        state.moments.clear()
        for (const name of meta.moments) state.moments.set(name, yield* read(name))
        state.step = meta.step
        state.rng.restore(meta.rng)
        return { step: meta.step, ...(meta.trainerState === undefined ? {} : { trainerState: meta.trainerState }) }
      })
    )
  })
