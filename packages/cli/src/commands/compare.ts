/**
 * `refine-af compare <run-dir-a> <run-dir-b> [more runs] [--stage name] [--runs-dir runs]`:
 * paired per-task comparison of finished runs' SuperNI predictions (run A is
 * the baseline; each further run is a candidate compared with it).
 *
 * The comparison is a run like any other: the CLI writes a small recipe — one
 * `superni/predictions` stage per run, importing that run's finished evaluation
 * folder (its content is part of the stage identity), and `superni/compare`
 * over them (`candidates:` list port) — and runs it through the engine, in a
 * new run directory under `runs/` named after the compared runs. So it is
 * cached (comparing the same runs again is all cache hits), resumable
 * (`refine-af resume <dir>`) and inspectable; its description and the command's
 * output name the model each run evaluated. The CLI does not import the
 * evaluator plugin (packages never import plugins): the recipe lists the plugin
 * run A's manifest names.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { compareRunDirs } from "./compare.ts"
 * const result = compareRunDirs({ baselineRun: "runs/self-instruct-…", candidateRuns: ["runs/rlaf-…"] })
 * ```
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { autoProgress, loadRecipe, readRunManifest, RunDirInvalid, runRecipe, type RunManifest, type RunRecipeOptions } from "@refine-af/core"
import { printRunSummary } from "../run-summary.ts"
import { reportStorageFailures } from "../storage-failure.ts"
import { cacheDirFlag } from "./run.ts"

/** The component that scores runs and the one that compares them (`<plugin>/<component>`). */
export const evaluateComponentId = "superni/evaluate"
export const compareComponentId = "superni/compare"
/** The component importing a finished evaluation stage of another run. */
export const importComponentId = "superni/predictions"

/** What `compareRunDirs` needs. */
export interface CompareRunDirsOptions {
  readonly baselineRun: string
  /** One or more candidate runs, each compared with the baseline. */
  readonly candidateRuns: ReadonlyArray<string>
  /** Evaluation stage name (the same in every run); found automatically when each run has exactly one. */
  readonly stage?: string | undefined
  /** Parent folder of the comparison's run directory (default `runs`). */
  readonly runsDir?: string | undefined
  /** Stage cache folder (default: the run engine's). */
  readonly cacheDir?: string | undefined
  /** False re-runs every stage (`--no-cache`). */
  readonly cache?: boolean | undefined
  readonly progress?: RunRecipeOptions["progress"]
  /** Options of the compare component (`metric`, `resamples`, `seed`, ...), decoded by its schema. */
  readonly options?: Readonly<Record<string, unknown>>
}

/** The comparison run, its headline numbers and the runs (and models) it compared. */
export interface CompareRunDirsResult {
  readonly runDir: string
  readonly manifest: RunManifest
  readonly metrics: Readonly<Record<string, number>>
  readonly compared: ReadonlyArray<ComparedRun>
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

/** One compared run: where its predictions come from and the model that made them. */
export interface ComparedRun {
  readonly runDir: string
  readonly runId: string
  /** The evaluation stage of that run. */
  readonly stage: string
  /** The stage importing its predictions in the comparison run (what the report calls it). */
  readonly node: string
  /** The model its evaluation used: resource name and component, as its manifest records them. */
  readonly model: string
}

/** The model behind a run's evaluation stage (manifests before stage `uses` were recorded say so). */
const modelOf = (manifest: RunManifest, stage: string): string => {
  const resources = Object.values(manifest.stages[stage]?.uses ?? {})
  if (resources.length === 0) return "model not recorded"
  return resources.map((name) => `${name} (${manifest.resources?.[name]?.componentId ?? "unknown component"})`).join(", ")
}

/** A recipe node name for a run id: node-name characters only, unique among `taken`. */
const nodeNameFor = (runId: string, taken: Set<string>): string => {
  const base = /^[A-Za-z_]/.test(runId) ? runId.replace(/[^A-Za-z0-9_-]/g, "_") : `run_${runId.replace(/[^A-Za-z0-9_-]/g, "_")}`
  let name = base === comparisonStage ? `${base}_run` : base
  for (let n = 2; taken.has(name); n++) name = `${base}_${n}`
  taken.add(name)
  return name
}

/** The comparison stage's name in the comparison recipe. */
const comparisonStage = "compare"

/**
 * The comparison as a recipe: one `superni/predictions` stage per run (its
 * finished evaluation folder, content-hashed) and `superni/compare` over them.
 * Plain data: written as the run's `recipe.yaml`, so `resume` reloads it.
 */
export const comparisonRecipe = (plugin: string, baseline: ComparedRun, candidates: ReadonlyArray<ComparedRun>, options: Readonly<Record<string, unknown>>) => {
  const runs = [baseline, ...candidates]
  return {
    name: `compare-${runs.map((run) => run.runId).join("-vs-")}`.slice(0, 120),
    description: `SuperNI comparison: ${runs.map((run) => `${run.runId} (model: ${run.model})`).join(" vs ")}`,
    seed: 0,
    plugins: [plugin],
    stages: {
      ...Object.fromEntries(runs.map((run) => [run.node, { _component_: importComponentId, stageDir: path.join(run.runDir, "stages", run.stage) }])),
      [comparisonStage]: { _component_: compareComponentId, baseline: baseline.node, candidates: candidates.map((run) => run.node), ...options }
    }
  }
}

/**
 * Compares finished runs through the run engine: a comparison recipe run in a new
 * run directory under `runsDir` (cached, resumable with `refine-af resume`); the
 * plain function behind `refine-af compare`.
 */
export const compareRunDirs = (options: CompareRunDirsOptions) =>
  Effect.gen(function*() {
    if (options.candidateRuns.length === 0) {
      return yield* new RunDirInvalid({
        dir: options.baselineRun,
        message: "give at least one candidate run",
        fix: "refine-af compare <baseline-run> <candidate-run> [more candidate runs]"
      })
    }
    const taken = new Set<string>()
    const runs = yield* Effect.forEach([options.baselineRun, ...options.candidateRuns], (runDir) =>
      Effect.gen(function*() {
        const dir = path.resolve(runDir)
        const manifest = yield* readRunManifest(dir)
        const stage = yield* findEvaluationStage(dir, manifest, options.stage)
        return { manifest, run: { runDir: dir, runId: manifest.runId, stage, node: nodeNameFor(manifest.runId, taken), model: modelOf(manifest, stage) } satisfies ComparedRun }
      }))
    const [baseline, ...candidates] = runs as [typeof runs[0], ...typeof runs]
    const pluginName = compareComponentId.split("/")[0]!
    const listed = baseline.manifest.plugins.find((plugin) => plugin.name === pluginName)
    const document = comparisonRecipe(listed?.packageName ?? "@refine-af/eval-superni", baseline.run, candidates.map((run) => run.run), { seed: 0, ...options.options })
    // The recipe file only lives until it is loaded: the run keeps its own copy (recipe.yaml).
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-compare-"))
    const file = path.join(scratch, "compare.yaml")
    fs.writeFileSync(file, JSON.stringify(document, null, 2))
    const recipe = yield* loadRecipe(file, { recipeDir: process.cwd() }).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(scratch, { recursive: true, force: true }))))
    const result = yield* runRecipe(recipe, {
      runsDir: options.runsDir ?? "runs",
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
      ...(options.cache === undefined ? {} : { cache: options.cache }),
      ...(options.progress === undefined ? {} : { progress: options.progress })
    })
    return {
      runDir: result.runDir,
      manifest: result.manifest,
      metrics: result.manifest.stages[comparisonStage]?.metrics ?? {},
      compared: runs.map((run) => run.run)
    } satisfies CompareRunDirsResult
  })

/** `refine-af compare`. */
export const compareCommand = Command.make(
  "compare",
  {
    baselineRun: Argument.String("run-dir-a").pipe(Argument.withDescription("Baseline run directory")),
    candidateRuns: Argument.String("run-dir-b").pipe(
      Argument.withDescription("Candidate run directory (one or more, each compared with the baseline)"),
      Argument.variadic({ min: 1 })
    ),
    stage: Flag.String("stage").pipe(Flag.withDescription("Evaluation stage name (when a run has several)"), Flag.optional),
    runsDir: Flag.String("runs-dir").pipe(Flag.withDescription("Parent folder of the comparison's run directory"), Flag.withDefault("runs")),
    cacheDir: cacheDirFlag,
    cache: Flag.Boolean("cache").pipe(Flag.withDescription("Reuse and fill the stage cache (--no-cache compares again)"), Flag.withDefault(true)),
    metric: Flag.Literals("metric", ["rougeL", "exactMatch", "official"]).pipe(
      Flag.withDescription("Per-instance metric deciding 'improved' (rougeL = the paper's headline)"),
      Flag.withDefault("rougeL")
    ),
    resamples: Flag.Int("resamples").pipe(Flag.withDescription("Bootstrap resamples"), Flag.withDefault(2000)),
    seed: Flag.Int("seed").pipe(Flag.withDescription("Bootstrap seed"), Flag.withDefault(0))
  },
  Effect.fnUntraced(function*({ baselineRun, candidateRuns, stage, runsDir, cacheDir, cache, metric, resamples, seed }) {
    const result = yield* compareRunDirs({
      baselineRun,
      candidateRuns,
      stage: Option.getOrUndefined(stage),
      runsDir,
      cacheDir: Option.getOrUndefined(cacheDir),
      cache,
      progress: autoProgress(),
      options: { metric, resamples, seed }
    }).pipe(reportStorageFailures({ runsDir }))
    const [baseline, ...candidates] = result.compared
    const lines = [
      printRunSummary(result.runDir, result.manifest, {}),
      `baseline: ${baseline!.runId} (stage ${baseline!.stage}, model ${baseline!.model})`,
      ...candidates.map((run) => `candidate: ${run.runId} (stage ${run.stage}, model ${run.model})`),
      ...Object.entries(result.metrics).map(([name, value]) => `  ${name}: ${Number(value.toFixed(4))}`),
      `report: ${path.join(result.runDir, "stages", "compare", "report.md")}`
    ]
    yield* Console.log(lines.join("\n"))
  })
).pipe(
  Command.withDescription("Paired per-task SuperNI comparison of finished runs (A = baseline, B... = candidates), run through the engine under runs/"),
  Command.withExamples([
    { command: "refine-af compare runs/self-instruct-… runs/rlaf-…", description: "Compare two runs' evaluations" },
    { command: "refine-af compare runs/a runs/b runs/c --stage eval --metric official", description: "Pick the stage and metric; several candidates" }
  ])
)
