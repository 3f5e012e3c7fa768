/**
 * Runs one stage of a run: reuse it when already complete in this run
 * directory, restore it from the cache on a key hit, otherwise run the
 * component with a crash-safe record writer (continuing an interrupted attempt
 * when the cache key is unchanged).
 */
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import { componentVersion, type ResolvedRecipe, type ResolvedStage } from "../recipe/resolved.ts"
import type { StageContext } from "../stage/context.ts"
import { RecordStreamError, StageError } from "../stage/errors.ts"
import { lookupCache, restoreFromCache, storeInCache } from "./cache.ts"
import { removeStaleTemps } from "./fs-atomic.ts"
import { ioError, type RunIoError } from "./errors.ts"
import type { EventLog } from "./events.ts"
import { resolvePathOptions } from "../plugin/path-option.ts"
import { contentsPart, optionContents } from "./content-id.ts"
import { hashStageDir, stageCacheKey } from "./hash.ts"
import type { RunManifest, StageManifest } from "./manifest.ts"
import { openRecordWriter, type CheckpointPolicy } from "./record-writer.ts"
import type { ResourcePool } from "./resources.ts"
import { stageDirOf, stateDirOf } from "./run-dir.ts"
import { stageSeed } from "./seed.ts"
import { stageInputOf, type StageOutput } from "./stage-input.ts"

/** Everything a stage execution needs from its run. */
export interface StageRunEnv {
  readonly recipe: ResolvedRecipe
  /** Folder of the original recipe (see `StageContext.recipeDir`). */
  readonly recipeDir: string
  readonly runDir: string
  readonly manifest: RunManifest
  readonly saveManifest: () => void
  readonly events: EventLog
  readonly resources: ResourcePool
  readonly outputs: Map<string, StageOutput>
  readonly cacheDir: string
  readonly cacheEnabled: boolean
  readonly checkpoint: CheckpointPolicy
}

const errorText = (error: unknown): string =>
  error instanceof StageError
    ? `${error.message}${error.fix ? ` (fix: ${error.fix})` : ""}`
    : error instanceof Error ? error.message : String(error)

/** A stage's DAG edges as its manifest entry records them (`inputs`, `uses`; each left out when empty). */
export const manifestInputs = (stage: ResolvedStage): Pick<StageManifest, "inputs" | "uses"> => {
  const inputs: Record<string, string | Array<string>> = { ...stage.inputs }
  for (const [port, stages] of Object.entries(stage.inputLists ?? {})) inputs[port] = [...stages]
  return {
    ...(Object.keys(inputs).length > 0 ? { inputs } : {}),
    ...(Object.keys(stage.uses).length > 0 ? { uses: { ...stage.uses } } : {})
  }
}

/**
 * The cache key of stage `name`: component, version, options (and the content
 * of the files its path options name), upstream output hashes, seed and the
 * identities of the resources it uses.
 */
export const stageKeyOf = (
  recipe: ResolvedRecipe,
  name: string,
  parts: {
    readonly outputHash: (stage: string) => string | undefined
    readonly resourceIdentity: (resource: string) => string
    readonly recipeDir: string
    readonly cacheDir?: string | undefined
  }
): string => {
  const stage = recipe.stages[name]!
  const hashOf = (upstream: string) => parts.outputHash(upstream) ?? `missing:${upstream}`
  const inputs: Record<string, string | ReadonlyArray<string>> = {}
  for (const [port, upstream] of Object.entries(stage.inputs)) inputs[port] = hashOf(upstream)
  // A list port's identity is its stages' output hashes in the recipe's order.
  for (const [port, upstreams] of Object.entries(stage.inputLists ?? {})) inputs[port] = upstreams.map(hashOf)
  const resources: Record<string, string> = {}
  for (const [slot, resource] of Object.entries(stage.uses)) resources[slot] = parts.resourceIdentity(resource)
  return stageCacheKey({
    componentId: stage.componentId,
    version: componentVersion(stage),
    rawOptions: stage.rawOptions,
    inputs,
    seed: stageSeed(recipe.seed, name),
    resources,
    ...contentsPart(optionContents(stage.component.options, stage.options, parts.recipeDir, parts.cacheDir))
  })
}

const cacheKeyOf = (env: StageRunEnv, name: string): string =>
  stageKeyOf(env.recipe, name, {
    outputHash: (stage) => env.outputs.get(stage)?.hash,
    resourceIdentity: env.resources.identity,
    recipeDir: env.recipeDir,
    cacheDir: env.cacheEnabled ? env.cacheDir : undefined
  })

const recordsText = (count: number) => `${count} ${count === 1 ? "record" : "records"}`

/** Runs (or reuses, or restores) the stage `name`; records its output in `env.outputs`. */
export const executeStage = (env: StageRunEnv, name: string, position: number): Effect.Effect<void, StageExecError> =>
  Effect.gen(function*() {
    const stage = env.recipe.stages[name]!
    const seed = stageSeed(env.recipe.seed, name)
    const cacheKey = cacheKeyOf(env, name)
    const dir = stageDirOf(env.runDir, name)
    const previous = env.manifest.stages[name]
    const stageCount = env.recipe.order.length
    const finish = (entry: StageManifest) => {
      env.outputs.set(name, { stage: name, dir, hash: entry.outputHash!, count: entry.records ?? 0 })
    }

    if (previous && (previous.status === "completed" || previous.status === "cached") && previous.cacheKey === cacheKey) {
      // Trust but verify: files edited or deleted since the stage finished mean it must run again.
      const intact = yield* Effect.try({ try: () => hashStageDir(dir) === previous.outputHash, catch: ioError(dir) })
      if (intact) {
        env.events.write("stage_reused", { stage: name, cacheKey })
        env.events.display.message(`[${position}/${stageCount}] ${name}: already complete`)
        return finish(previous)
      }
      env.events.write("warning", { stage: name, message: "finished output was modified since; running the stage again" })
      env.events.display.message(`warning [${name}]: finished output was modified since; running the stage again`)
      delete env.manifest.stages[name]
    }

    const entry: StageManifest = {
      status: "running",
      componentId: stage.componentId,
      version: componentVersion(stage),
      cacheKey,
      ...manifestInputs(stage),
      startedAt: new Date().toISOString()
    }
    const startedAt = Date.now()

    const cached = env.cacheEnabled ? lookupCache(env.cacheDir, cacheKey) : undefined
    if (cached !== undefined) {
      const restored = yield* Effect.try({
        try: () => restoreFromCache(env.cacheDir, cacheKey, cached, dir),
        catch: ioError(dir)
      })
      if (restored) {
        Object.assign(entry, {
          status: "cached",
          outputHash: cached.outputHash,
          records: cached.records,
          endedAt: new Date().toISOString(),
          durationMs: Date.now() - startedAt,
          ...(cached.metrics ? { metrics: { ...cached.metrics } } : {}),
          ...(cached.data ? { data: cached.data } : {})
        })
        env.manifest.stages[name] = entry
        if (cached.metrics) env.manifest.metrics[name] = { ...cached.metrics }
        env.saveManifest()
        env.events.write("cache_hit", { stage: name, cacheKey, outputHash: cached.outputHash, records: cached.records })
        env.events.display.message(`[${position}/${stageCount}] ${name}: cache hit (${recordsText(cached.records)})`)
        // What the stage warned about when it ran still holds for its output: repeated, so this run's report lists it too.
        for (const message of Array.isArray(cached.warnings) ? cached.warnings : []) {
          if (typeof message !== "string") continue
          env.events.write("warning", { stage: name, message: `${message} (from when the cached output was made)` })
          env.events.display.message(`warning [${name}]: ${message} (from when the cached output was made)`)
        }
        return finish(entry)
      }
      env.events.write("warning", { stage: name, message: `cache entry ${cacheKey} was damaged and has been dropped` })
      env.events.display.message(`warning [${name}]: its cache entry was damaged and has been dropped; running the stage`)
    }

    // Same key as an unfinished earlier attempt: continue it. Otherwise start clean.
    const continuing = env.manifest.stages[name] !== undefined && previous?.cacheKey === cacheKey
    if (env.manifest.stages[name] !== undefined && !continuing && (previous?.records ?? 0) > 0) {
      // An unfinished attempt under other options (a resume with an override): say that its work is dropped.
      const message = `its options, inputs or resources changed since the unfinished attempt, so it runs again from its start (that attempt's ${previous!.records} committed records and checkpoint are dropped)`
      env.events.write("warning", { stage: name, message })
      env.events.display.message(`warning [${name}]: ${message}`)
    }
    const stateDir = stateDirOf(env.runDir, name)
    yield* Effect.try({
      try: () => {
        // Trainer state belongs to one stage identity: a changed stage starts from nothing.
        if (!continuing) for (const folder of [dir, stateDir]) fs.rmSync(folder, { recursive: true, force: true })
        // A continued stage: what a killed attempt was writing atomically never became a file; its temporary copy goes.
        else for (const folder of [dir, stateDir]) removeStaleTemps(folder)
        fs.mkdirSync(stateDir, { recursive: true })
      },
      catch: ioError(dir)
    })
    env.manifest.stages[name] = entry
    env.saveManifest()

    const writer = yield* openRecordWriter(dir, env.checkpoint)
    env.events.write("stage_start", { stage: name, component: stage.componentId, cacheKey, resumedCount: writer.resumedCount })
    env.events.display.stageStart(name, position, stageCount)
    if (writer.resumedCount > 0) {
      env.events.display.message(`  ${name}: resuming after ${writer.resumedCount} committed records`)
      if (stage.component.deterministic !== true) {
        yield* env.events.sinkFor(name).warn(
          `${stage.componentId} is not marked deterministic: the records after the first ${writer.resumedCount} may differ from an uninterrupted run`
        )
      }
    }

    const inputs: Record<string, ReturnType<typeof stageInputOf>> = {}
    for (const [port, upstream] of Object.entries(stage.inputs)) {
      const schema = stage.component.inputs?.[port]?.schema
      inputs[port] = stageInputOf(env.outputs.get(upstream)!, schema === undefined ? undefined : { schema, reader: `stage "${name}"`, port })
    }
    const inputLists: Record<string, ReadonlyArray<ReturnType<typeof stageInputOf>>> = {}
    for (const [port, upstreams] of Object.entries(stage.inputLists ?? {})) {
      const schema = stage.component.inputs?.[port]?.schema
      inputLists[port] = upstreams.map((upstream, index) =>
        stageInputOf(env.outputs.get(upstream)!, schema === undefined ? undefined : { schema, reader: `stage "${name}"`, port: `${port}[${index}]` })
      )
    }

    const exit = yield* Effect.exit(Effect.gen(function*() {
      const uses = yield* env.resources.servicesFor(name, stage.uses, stage.component.uses)
      const context: StageContext<unknown, Record<string, unknown>> = {
        name,
        options: resolvePathOptions(stage.component.options, stage.options, env.recipeDir),
        seed,
        inputs,
        inputLists,
        uses,
        output: writer,
        dir,
        stateDir,
        events: env.events.sinkFor(name),
        recipeDir: env.recipeDir
      }
      const summary = yield* Effect.scoped(stage.component.run(context as never))
      // A failed final checkpoint must fail the stage, never mark partial output complete.
      yield* writer.close()
      return summary
    }).pipe(Effect.ensuring(Effect.ignore(writer.close()))))

    entry.endedAt = new Date().toISOString()
    entry.durationMs = Date.now() - startedAt
    entry.records = writer.count()
    if (Exit.isFailure(exit)) {
      const interrupted = Exit.hasInterrupts(exit)
      entry.status = interrupted ? "interrupted" : "failed"
      if (!interrupted) entry.error = errorText(exit.cause.reasons.find((reason) => reason._tag === "Fail")?.error ?? exit.cause)
      env.saveManifest()
      env.events.write("stage_end", { stage: name, status: entry.status, records: entry.records, durationMs: entry.durationMs, error: entry.error })
      env.events.display.stageEnd(name, `${entry.status} after ${entry.records} records`)
      return yield* exit
    }

    const summary = exit.value ?? undefined
    const outputHash = yield* Effect.try({ try: () => hashStageDir(dir), catch: ioError(dir) })
    entry.status = "completed"
    entry.outputHash = outputHash
    if (summary?.data) entry.data = summary.data
    if (summary?.metrics) {
      entry.metrics = { ...summary.metrics }
      env.manifest.metrics[name] = { ...summary.metrics }
    }
    env.saveManifest()
    if (env.cacheEnabled) {
      yield* Effect.try({
        try: () =>
          storeInCache(env.cacheDir, cacheKey, dir, {
            outputHash,
            records: entry.records ?? 0,
            componentId: stage.componentId,
            ...(summary?.metrics ? { metrics: summary.metrics } : {}),
            ...(summary?.data ? { data: summary.data } : {}),
            ...(env.events.warningsOf(name).length === 0 ? {} : { warnings: env.events.warningsOf(name) }),
            createdAt: new Date().toISOString()
          }),
        catch: ioError(env.cacheDir)
      }).pipe(Effect.catch((error) => Effect.sync(() => {
        // The run's own output stands; only a later run's cache hit is lost. Said on the console, not only in events.jsonl.
        env.events.write("warning", { stage: name, message: `could not store in cache: ${error.message}` })
        env.events.display.message(`warning [${name}]: its output could not be stored in the cache (${error.message}); the run goes on, and a later run computes this stage again`)
      })))
    }
    env.events.write("stage_end", { stage: name, status: "completed", records: entry.records, durationMs: entry.durationMs, outputHash })
    // After a resume the time is this attempt's: say so, and what the earlier ones had committed.
    const resumedFrom = writer.resumedCount > 0 ? ` (this attempt; resumed after ${recordsText(writer.resumedCount)})` : ""
    env.events.display.stageEnd(name, `done, ${recordsText(entry.records)} in ${(entry.durationMs / 1000).toFixed(1)}s${resumedFrom}`)
    finish(entry)
  })

/** Errors a stage execution can end with. */
export type StageExecError = StageError | RecordStreamError | RunIoError
