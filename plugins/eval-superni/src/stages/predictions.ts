/**
 * `superni/predictions`: the finished records of a `superni/evaluate` stage of
 * another run, imported as this stage's output — so a comparison of finished
 * runs (`refine-af compare`) is an ordinary recipe: cached (the folder's
 * content is part of the identity, through `RecipePath`), resumable and
 * written under `runs/`. The stage's name is what the comparison calls it.
 *
 * Recipe node:
 * ```yaml
 * rlaf_run:
 *   _component_: superni/predictions
 *   stageDir: ../runs/rlaf-20260124-101500-a3f9/stages/eval
 * ```
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Schema } from "effect"
import { defineStage, RecipePath, readCommitMarker, stageInputOf, type JsonRecord } from "@refine-af/core"
import { PredictionsMismatch } from "../errors.ts"
import { readPredictions } from "./compare.ts"
import { toStageError } from "./stageError.ts"

/** Options of `superni/predictions`. */
export const PredictionsOptions = Schema.Struct({
  /** The finished `superni/evaluate` stage folder (`<run>/stages/<stage>`). */
  stageDir: RecipePath("dir", "finished superni/evaluate stage folder", (dir) =>
    fs.existsSync(path.join(dir, "records.jsonl"))
      ? undefined
      : { problem: `${dir} holds no records.jsonl`, fix: "name a finished stage folder, <run>/stages/<evaluate stage>" })
})

/** The `superni/predictions` stage component. */
export const predictionsStage = defineStage({
  role: "transform",
  description: "Imports the finished predictions of a superni/evaluate stage of another run (its folder's content is part of the identity).",
  deterministic: true,
  options: PredictionsOptions,
  run: (ctx) =>
    Effect.gen(function*() {
      const dir = ctx.options.stageDir
      const marker = readCommitMarker(dir)
      if (marker instanceof Error) return yield* marker
      const input = stageInputOf({ stage: ctx.name, dir, hash: "", count: marker.count })
      // Checked as predictions (a clear error for any other stage's folder), copied unchanged.
      const { records } = yield* readPredictions(input).pipe(Effect.mapError(toStageError(ctx.name)))
      if (records.length === 0) {
        return yield* toStageError(ctx.name)(new PredictionsMismatch({ message: `${dir} holds no committed prediction`, fix: "finish that run first: refine-af resume <run>" }))
      }
      const raw: ReadonlyArray<JsonRecord> = yield* input.readAll()
      yield* ctx.output.append(raw.slice(ctx.output.resumedCount))
      return { metrics: { predictions: raw.length } }
    })
})
