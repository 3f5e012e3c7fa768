/**
 * What a stage sees while it runs: its options, its upstream outputs, the
 * resources it asked for, and a durable, append-only record writer.
 *
 * Resume contract: records are appended in a deterministic order. When a run is
 * resumed, `output.resumedCount` records are already durable and the stage must
 * continue from there (never re-emit them). Components that are deterministic
 * derive every random choice from `seed` and the record index (see `seedFor`),
 * so a resumed run produces the same output as an uninterrupted one.
 *
 * Resume contract for trainers (stages whose work is steps, not records):
 * 1. Every so many steps, write the whole training state to `stateDir` —
 *    adapter weights, optimizer moments, RNG state, data cursor and the step
 *    number — atomically (write under a temp name, then rename).
 * 2. On start, load the checkpoint in `stateDir` if there is one and continue
 *    from its step; an empty `stateDir` means step 0. Records (e.g. one per
 *    step) may be durable past the checkpoint (the writer checkpoints on its
 *    own): recompute those steps but append only records past
 *    `output.resumedCount`, so no step is reported twice.
 * 3. Write final artifacts (the exported adapter) to `dir` at the end: `dir`
 *    is hashed and cached, `stateDir` is not. The core empties `stateDir` when
 *    the stage's identity (options, inputs, resources, seed, version) changes,
 *    so a checkpoint never outlives the settings that made it.
 */
import type { Effect, Stream } from "effect"
import type { RecordStreamError } from "./errors.ts"

/** A JSON-serialisable record (one line of a record stream). */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }
export type JsonRecord = { readonly [key: string]: Json }

/** The finished output of an upstream stage. */
export interface StageInput {
  /** Upstream stage name. */
  readonly stage: string
  /** Content hash of the upstream output (records + artifacts). */
  readonly hash: string
  /** Folder of the upstream stage's artifacts (adapters, reports, ...). */
  readonly dir: string
  /** Number of records. */
  readonly count: number
  /** Stream of the upstream records, in order. */
  readonly records: () => Stream.Stream<JsonRecord, RecordStreamError>
  /** All upstream records at once (small streams only). */
  readonly readAll: () => Effect.Effect<ReadonlyArray<JsonRecord>, RecordStreamError>
}

/** Append-only, crash-safe writer of the stage's record stream. */
export interface RecordWriter {
  /** Records already durable from an interrupted earlier attempt (0 on a fresh run). */
  readonly resumedCount: number
  /** The durable records of the earlier attempt, in order (for stages that rebuild state, e.g. a growing pool). */
  readonly resumed: () => Effect.Effect<ReadonlyArray<JsonRecord>, RecordStreamError>
  /**
   * Appends records in order. They become durable at the next checkpoint. `state` (small JSON:
   * counters, a step number) is committed atomically with exactly these records, even when
   * there are none, and read back on resume as `resumedState`: a resumed stage then reports
   * whole-run counters, not only the last attempt's.
   */
  readonly append: (records: ReadonlyArray<JsonRecord>, options?: { readonly state?: Json }) => Effect.Effect<void, RecordStreamError>
  /** The `state` committed with the last durable append of an earlier attempt (undefined on a fresh run or when none was given). */
  readonly resumedState?: Json
  /** Makes everything appended so far durable (fsync + commit marker). Called automatically at stage end and periodically. */
  readonly checkpoint: () => Effect.Effect<void, RecordStreamError>
}

/** Structured events written to the run's `events.jsonl` (and shown as progress). */
export interface EventSink {
  /**
   * Progress of the stage: `done` items of `total` (if known); `budget` when the stage also
   * stops after a number of steps (the ETA is then the sooner of the two).
   */
  readonly progress: (done: number, total?: number, budget?: { readonly step: number; readonly steps: number }) => Effect.Effect<void>
  /** A named scalar metric, optionally at a training step. */
  readonly metric: (name: string, value: number, step?: number) => Effect.Effect<void>
  /** A warning a user should read. */
  readonly warn: (message: string) => Effect.Effect<void>
  /** Any other structured event (e.g. per-filter rejection counts). */
  readonly emit: (type: string, data: JsonRecord) => Effect.Effect<void>
}

/** The context handed to a stage component's `run`. */
export interface StageContext<Options, Uses> {
  /** Stage name in the recipe. */
  readonly name: string
  readonly options: Options
  /** Stage seed: derived from the recipe seed and the stage name. */
  readonly seed: number
  /** Upstream outputs by input port name (single-stage ports). */
  readonly inputs: Readonly<Record<string, StageInput>>
  /**
   * Upstream outputs of list ports (`InputPort.list`), by port name, in the
   * order the recipe lists them (an unconnected optional list port is absent).
   * Always set by a run; optional only so that hand-written test contexts of
   * stages without list ports need not spell it.
   */
  readonly inputLists?: Readonly<Record<string, ReadonlyArray<StageInput>>>
  /** Resolved resource services by slot name (typed from the component's `uses`). */
  readonly uses: Uses
  readonly output: RecordWriter
  /** Folder for the stage's artifacts; part of the stage's content hash. */
  readonly dir: string
  /**
   * Folder for the stage's working state (trainer checkpoints: adapter,
   * optimizer moments, RNG state, data cursor, step). Kept across `resume` of
   * the same stage identity, emptied when the identity (options, inputs,
   * resources, seed, version) changes; never hashed or cached. See the resume
   * contract for trainers above.
   */
  readonly stateDir: string
  readonly events: EventSink
  /**
   * Absolute folder of the recipe file (for a resumed run, of the original
   * recipe). Relative paths in options are relative to it: resolve them with
   * `resolveRecipePath(ctx, p)`. Undefined when the stage runs outside a recipe
   * (a test harness); relative paths then resolve from the cwd.
   */
  readonly recipeDir?: string
}
