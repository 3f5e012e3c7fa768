/**
 * One way to read a scorer folder's weights whatever the format:
 * `model.safetensors` (preferred) or `pytorch_model.bin` through the safe
 * reader. `readAll` checks every expected name and shape before reading.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { openCheckpoint } from "@refine-af/models"
 * const names = Effect.scoped(Effect.map(openCheckpoint("/models/rm"), (s) => s.names))
 * ```
 */
import { Effect, Schema, type Scope } from "effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { openSingleFile } from "../safetensors/sharded.ts"
import { openTorchBin } from "../pytorch-bin/reader.ts"
import type { TorchBinError } from "../pytorch-bin/errors.ts"

/** The weights of a folder are missing, unreadable or do not fit the config. */
export class CheckpointError extends Schema.TaggedError<CheckpointError>()("CheckpointError", {
  path: Schema.String,
  message: Schema.String
}) {}

export type Weights = ReadonlyMap<string, { readonly shape: ReadonlyArray<number>; readonly data: Float32Array }>

export interface WeightSource {
  readonly file: string
  readonly names: ReadonlyArray<string>
  readonly readAll: (expected: ReadonlyMap<string, ReadonlyArray<number>>) => Effect.Effect<Weights, CheckpointError>
}

const describe = (error: unknown): string => (typeof error === "object" && error !== null && "message" in error ? String((error as { message: unknown }).message) : String(error))

const checkShapes = (file: string, expected: ReadonlyMap<string, ReadonlyArray<number>>, shapeOf: (name: string) => ReadonlyArray<number> | undefined) => {
  const problems: Array<string> = []
  for (const [name, shape] of expected) {
    const found = shapeOf(name)
    if (found === undefined) problems.push(`missing ${name}`)
    else if (found.join(",") !== shape.join(",")) problems.push(`${name} is [${found}] but config.json implies [${shape}]`)
  }
  return problems.length === 0
    ? Effect.void
    : Effect.fail(new CheckpointError({ path: file, message: `The weights in ${file} do not fit config.json:\n  - ${problems.slice(0, 8).join("\n  - ")}${problems.length > 8 ? `\n  - … ${problems.length - 8} more` : ""}\nCheck that config.json belongs to these weights.` }))
}

/** Opens the weights of `folder` (`prefer` picks a format when both exist). */
export const openCheckpoint = (folder: string, prefer: "safetensors" | "bin" = "safetensors"): Effect.Effect<WeightSource, CheckpointError, Scope.Scope> =>
  Effect.gen(function*() {
    const safetensors = nodePath.join(folder, "model.safetensors")
    const bin = nodePath.join(folder, "pytorch_model.bin")
    const hasSafetensors = fs.existsSync(safetensors)
    const hasBin = fs.existsSync(bin)
    if (!hasSafetensors && !hasBin) {
      return yield* new CheckpointError({ path: folder, message: `${folder} has neither model.safetensors nor pytorch_model.bin (sharded checkpoints: merge or convert them to one model.safetensors)` })
    }
    if (hasBin && (prefer === "bin" || !hasSafetensors)) {
      const file = yield* Effect.acquireRelease(
        Effect.try({ try: () => openTorchBin(bin), catch: (e) => new CheckpointError({ path: bin, message: describe(e as TorchBinError) }) }),
        (f) => Effect.sync(f.close)
      )
      return {
        file: bin,
        names: file.names,
        readAll: (expected) =>
          Effect.gen(function*() {
            yield* checkShapes(bin, expected, (name) => (file.names.includes(name) ? file.shape(name) : undefined))
            const out = new Map<string, { shape: ReadonlyArray<number>; data: Float32Array }>()
            for (const [name, shape] of expected) {
              const data = yield* Effect.try({ try: () => file.readFloat32(name), catch: (e) => new CheckpointError({ path: bin, message: describe(e) }) })
              out.set(name, { shape, data })
            }
            return out
          })
      }
    }
    const source = yield* openSingleFile(safetensors).pipe(Effect.mapError((e) => new CheckpointError({ path: safetensors, message: e.message })))
    return {
      file: safetensors,
      names: source.names,
      readAll: (expected) =>
        Effect.gen(function*() {
          const shapes = new Map<string, ReadonlyArray<number>>()
          for (const name of expected.keys()) {
            const entry = yield* Effect.option(source.entry(name))
            if (entry._tag === "Some") shapes.set(name, entry.value.shape)
          }
          yield* checkShapes(safetensors, expected, (name) => shapes.get(name))
          const out = new Map<string, { shape: ReadonlyArray<number>; data: Float32Array }>()
          for (const [name, shape] of expected) {
            const data = yield* source.readFloat32(name).pipe(Effect.mapError((e) => new CheckpointError({ path: safetensors, message: e.message })))
            out.set(name, { shape, data })
          }
          return out
        })
    }
  })
