/**
 * `refine-af compare <run-dir-a> <run-dir-b> [more runs] [--stage name] [--out dir]`:
 * paired per-task comparison of finished runs' SuperNI predictions (run A is
 * the baseline; each further run is a candidate compared with it).
 *
 * The CLI does not import the evaluator plugin (packages never import
 * plugins): it loads the plugin that ran the evaluation — as listed in run A's
 * manifest — through the core plugin loader, and runs its `compare` stage
 * component on the two runs' finished stage folders, writing the records and
 * reports to `--out`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { compareRunDirs } from "./compare.ts"
 * const result = compareRunDirs({ baselineRun: "runs/self-instruct-…", candidateRuns: ["runs/rlaf-…"] })
 * ```
 */
import * as path from "node:path"
import { Console, Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import {
  loadPlugin,
  openRecordWriter,
  readRunManifest,
  RunDirInvalid,
  StageError,
  stageDirOf,
  stageInputOf,
  type EventSink,
  type RunManifest,
  type StageComponent
} from "@refine-af/core"

/** The component that scores runs and the one that compares them (`<plugin>/<component>`). */
export const evaluateComponentId = "superni/evaluate"
export const compareComponentId = "superni/compare"
/** The compare component's candidate input ports, in order. */
const candidatePorts = ["candidate", "candidate2", "candidate3", "candidate4"] as const

/** What `compareRunDirs` needs. */
export interface CompareRunDirsOptions {
  readonly baselineRun: string
  /** One to four candidate runs, each compared with the baseline. */
  readonly candidateRuns: ReadonlyArray<string>
  /** Evaluation stage name (the same in both runs); found automatically when each run has exactly one. */
  readonly stage?: string | undefined
  /** Output folder; default `compare-<run A id>-vs-<run B id>` in the current folder. */
  readonly out?: string | undefined
  /** Options of the compare component (`metric`, `resamples`, `seed`, ...), decoded by its schema. */
  readonly options?: Readonly<Record<string, unknown>>
}

/** Where the comparison went and its headline numbers. */
export interface CompareRunDirsResult {
  readonly out: string
  readonly metrics: Readonly<Record<string, number>>
}

const finished = (status: string) => status === "completed" || status === "cached"

/** The evaluation stage of a run: the named one, or its only finished `superni/evaluate` stage. */
export const findEvaluationStage = (runDir: string, manifest: RunManifest, stage?: string): Effect.Effect<string, RunDirInvalid> => {
  if (stage !== undefined) {
    const entry = manifest.stages[stage]
    if (entry === undefined || !finished(entry.status)) {
      return Effect.fail(new RunDirInvalid({
        dir: runDir,
        message: entry === undefined ? `run has no stage "${stage}"` : `stage "${stage}" did not finish (status ${entry.status})`,
        fix: entry === undefined
          ? `pick one of: ${Object.keys(manifest.stages).join(", ") || "(no stages)"}`
          : `finish the run first: refine-af resume ${runDir}`
      }))
    }
    return Effect.succeed(stage)
  }
  const candidates = Object.entries(manifest.stages)
    .filter(([, entry]) => entry.componentId === evaluateComponentId && finished(entry.status))
    .map(([name]) => name)
  if (candidates.length === 1) return Effect.succeed(candidates[0]!)
  return Effect.fail(new RunDirInvalid({
    dir: runDir,
    message: candidates.length === 0
      ? `run has no finished ${evaluateComponentId} stage`
      : `run has several ${evaluateComponentId} stages: ${candidates.join(", ")}`,
    fix: candidates.length === 0 ? "compare runs whose recipe ends with a superni/evaluate stage" : "choose one with --stage <name>"
  }))
}

/** Loads the compare component from the plugin that run A's manifest lists under the evaluator's plugin name. */
const loadCompareComponent = (runDir: string, manifest: RunManifest) =>
  Effect.gen(function*() {
    const [pluginName, componentName] = compareComponentId.split("/") as [string, string]
    const listed = manifest.plugins.find((plugin) => plugin.name === pluginName)
    // The installed package first; a plugin the recipe loaded by path is found at that path.
    const specifiers = [
      ...(listed === undefined ? [] : [listed.packageName, listed.specifier]),
      "@refine-af/eval-superni"
    ].filter((specifier, index, all) => all.indexOf(specifier) === index)
    const search = { searchFrom: [process.cwd(), runDir] }
    const loaded = yield* Effect.firstSuccessOf(specifiers.map((specifier) => loadPlugin(specifier, search)))
    const specifier = loaded.specifier
    const component = loaded.manifest.components[componentName]
    if (component === undefined || component.kind !== "stage") {
      return yield* new RunDirInvalid({
        dir: runDir,
        message: `plugin ${specifier} has no ${compareComponentId} stage component`,
        fix: "install a version of the SuperNI evaluator plugin that provides superni/compare"
      })
    }
    return component as StageComponent
  })

const quietEvents: EventSink = {
  progress: () => Effect.void,
  metric: () => Effect.void,
  warn: (message) => Console.error(`warning: ${message}`),
  emit: () => Effect.void
}

/** Compares two finished runs; the plain function behind `refine-af compare`. */
export const compareRunDirs = (options: CompareRunDirsOptions) =>
  Effect.scoped(Effect.gen(function*() {
    if (options.candidateRuns.length === 0 || options.candidateRuns.length > candidatePorts.length) {
      return yield* new RunDirInvalid({
        dir: options.candidateRuns.join(", "),
        message: `give 1 to ${candidatePorts.length} candidate runs (got ${options.candidateRuns.length})`,
        fix: "refine-af compare <baseline-run> <candidate-run> [more candidate runs]"
      })
    }
    const runs = yield* Effect.forEach([options.baselineRun, ...options.candidateRuns], (runDir) =>
      Effect.gen(function*() {
        const dir = path.resolve(runDir)
        const manifest = yield* readRunManifest(dir)
        const stage = yield* findEvaluationStage(dir, manifest, options.stage)
        const entry = manifest.stages[stage]!
        const input = stageInputOf({
          stage: `${manifest.runId}/${stage}`,
          dir: stageDirOf(dir, stage),
          hash: entry.outputHash ?? "",
          count: entry.records ?? 0
        })
        return { dir, manifest, input }
      }))
    const [baseline, ...candidates] = runs as [typeof runs[0], ...typeof runs]
    const component = yield* loadCompareComponent(baseline.dir, baseline.manifest)
    const decoded = yield* Schema.decodeUnknownEffect(component.options)({ seed: 0, ...options.options }).pipe(
      Effect.mapError((error) => new StageError({ stage: "compare", message: `invalid compare options: ${error.message}`, fix: "see refine-af compare --help" }))
    )
    const out = path.resolve(options.out ?? `compare-${baseline.manifest.runId}-vs-${candidates.map((run) => run.manifest.runId).join("-")}`)
    const writer = yield* openRecordWriter(out)
    const stateDir = path.join(out, ".state")
    const summary = yield* component.run({
      name: "compare",
      options: decoded,
      seed: 0,
      inputs: Object.fromEntries([["baseline", baseline.input], ...candidates.map((run, index) => [candidatePorts[index]!, run.input])]),
      uses: {},
      output: writer,
      dir: out,
      stateDir,
      events: quietEvents
    })
    yield* writer.close()
    return { out, metrics: summary?.metrics ?? {} } satisfies CompareRunDirsResult
  }))

/** `refine-af compare`. */
export const compareCommand = Command.make(
  "compare",
  {
    baselineRun: Argument.String("run-dir-a").pipe(Argument.withDescription("Baseline run directory")),
    candidateRuns: Argument.String("run-dir-b").pipe(
      Argument.withDescription("Candidate run directory (up to four, each compared with the baseline)"),
      Argument.variadic({ min: 1, max: 4 })
    ),
    stage: Flag.String("stage").pipe(Flag.withDescription("Evaluation stage name (when a run has several)"), Flag.optional),
    out: Flag.String("out").pipe(Flag.withDescription("Output folder for report.md, report.html, comparison.json"), Flag.optional),
    metric: Flag.Literals("metric", ["rougeL", "exactMatch", "official"]).pipe(
      Flag.withDescription("Per-instance metric deciding 'improved' (rougeL = the paper's headline)"),
      Flag.withDefault("rougeL")
    ),
    resamples: Flag.Int("resamples").pipe(Flag.withDescription("Bootstrap resamples"), Flag.withDefault(2000)),
    seed: Flag.Int("seed").pipe(Flag.withDescription("Bootstrap seed"), Flag.withDefault(0))
  },
  Effect.fnUntraced(function*({ baselineRun, candidateRuns, stage, out, metric, resamples, seed }) {
    const result = yield* compareRunDirs({
      baselineRun,
      candidateRuns,
      stage: Option.getOrUndefined(stage),
      out: Option.getOrUndefined(out),
      options: { metric, resamples, seed }
    })
    const lines = Object.entries(result.metrics).map(([name, value]) => `  ${name}: ${Number(value.toFixed(4))}`)
    yield* Console.log([`comparison written to ${result.out}`, ...lines, `  report: ${path.join(result.out, "report.md")}`].join("\n"))
  })
).pipe(
  Command.withDescription("Paired per-task SuperNI comparison of finished runs (A = baseline, B... = candidates)"),
  Command.withExamples([
    { command: "refine-af compare runs/self-instruct-… runs/rlaf-…", description: "Compare two runs' evaluations" },
    { command: "refine-af compare runs/a runs/b --stage eval --metric official --out reports/a-vs-b", description: "Pick the stage, metric and output folder" }
  ])
)
