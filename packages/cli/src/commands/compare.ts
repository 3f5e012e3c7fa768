/**
 * `refine-af compare <run-dir-a> <run-dir-b> [more runs] [--stage name] [--runs-dir runs]`:
 * paired per-task comparison of finished runs' evaluations (run A is the
 * baseline; each further run is a candidate compared with it).
 *
 * The CLI names no plugin component. It loads the plugins run A's manifest
 * lists and asks them which stage compares evaluations: a stage component
 * declaring `compares: { evaluations, importer }` (eval-superni's `compare`
 * declares `evaluate` and `predictions`). A run's evaluation stage is the
 * named one or its only finished stage of one of those evaluation components.
 *
 * The comparison is a run like any other: the CLI writes a small recipe — one
 * importer stage per run, importing that run's finished evaluation folder
 * (its content is part of the stage identity), and the comparison stage over
 * them (`baseline:` port, `candidates:` list port) — and runs it through the
 * engine, in a new run directory under `runs/` named after the compared runs.
 * So it is cached (comparing the same runs again is all cache hits), resumable
 * (`refine-af resume <dir>`) and inspectable; its description and the
 * command's output name the model each run evaluated.
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
import {
  autoProgress,
  comparisonComponents,
  loadPluginList,
  loadRecipe,
  readRunManifest,
  RunDirInvalid,
  runRecipe,
  type RunManifest,
  type RunRecipeOptions
} from "@refine-af/core"
import { printRunSummary } from "../run-summary.ts"
import { reportStorageFailures } from "../storage-failure.ts"
import { cacheDirFlag } from "./run.ts"
import { cliCommand } from "../invocation.ts"

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

/** The evaluation stage of a run: the named one, or its only finished stage of one of the `evaluations` components. */
export const findEvaluationStage = (
  runDir: string,
  manifest: RunManifest,
  evaluations: ReadonlyArray<string>,
  stage?: string
): Effect.Effect<string, RunDirInvalid> => {
  if (stage !== undefined) {
    const entry = manifest.stages[stage]
    if (entry === undefined || !finished(entry.status)) {
      return Effect.fail(new RunDirInvalid({
        dir: runDir,
        message: entry === undefined ? `run has no stage "${stage}"` : `stage "${stage}" did not finish (status ${entry.status})`,
        fix: entry === undefined
          ? `pick one of: ${Object.keys(manifest.stages).join(", ") || "(no stages)"}`
          : `finish the run first: ${cliCommand()} resume ${runDir}`
      }))
    }
    return Effect.succeed(stage)
  }
  const candidates = Object.entries(manifest.stages)
    .filter(([, entry]) => evaluations.includes(entry.componentId) && finished(entry.status))
    .map(([name]) => name)
  if (candidates.length === 1) return Effect.succeed(candidates[0]!)
  const kinds = evaluations.join(" / ")
  return Effect.fail(new RunDirInvalid({
    dir: runDir,
    message: candidates.length === 0
      ? `run has no finished ${kinds} stage`
      : `run has several ${kinds} stages: ${candidates.join(", ")}`,
    fix: candidates.length === 0 ? `compare runs whose recipe has a finished ${kinds} stage, or name one with --stage <name>` : "choose one with --stage <name>"
  }))
}

/** A plugin specifier as the comparison recipe must write it: relative paths made absolute from the run's recipe folder. */
const absoluteSpecifier = (specifier: string, recipeDir: string): string =>
  specifier.startsWith("./") || specifier.startsWith("../") ? path.resolve(recipeDir, specifier) : specifier

/**
 * The comparison stages offered by the plugins a run used (loaded as its
 * manifest lists them); plugins that no longer load are skipped unless none
 * offers a comparison, and then named in the error.
 */
const comparisonsOf = (runDir: string, manifest: RunManifest) =>
  Effect.gen(function*() {
    const recipeDir = manifest.recipeDir ?? runDir
    const specifiers = manifest.plugins.map((plugin) => absoluteSpecifier(plugin.specifier, recipeDir))
    const { plugins, failures } = yield* loadPluginList(specifiers, { searchFrom: [recipeDir, runDir, process.cwd()] })
    const offered = comparisonComponents(plugins)
    if (offered.length > 0) return offered
    return yield* new RunDirInvalid({
      dir: runDir,
      message: `none of the run's plugins (${manifest.plugins.map((plugin) => plugin.name).join(", ") || "none"}) offers a comparison stage` +
        (failures.length === 0 ? "" : `; some did not load: ${failures.map((failure) => `${failure.specifier}: ${failure.message}`).join("; ")}`),
      fix: "compare runs evaluated by a plugin with a comparison stage (a stage declaring `compares`, e.g. @refine-af/eval-superni), installed where this command runs"
    })
  })

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
 * The comparison as a recipe: one importer stage per run (its finished
 * evaluation folder, content-hashed) and the comparison stage over them.
 * Plain data: written as the run's `recipe.yaml`, so `resume` reloads it.
 */
export const comparisonRecipe = (
  comparison: { readonly plugin: string; readonly importer: string; readonly compare: string },
  baseline: ComparedRun,
  candidates: ReadonlyArray<ComparedRun>,
  options: Readonly<Record<string, unknown>>
) => {
  const runs = [baseline, ...candidates]
  return {
    name: `compare-${runs.map((run) => run.runId).join("-vs-")}`.slice(0, 120),
    description: `Comparison (${comparison.compare}): ${runs.map((run) => `${run.runId} (model: ${run.model})`).join(" vs ")}`,
    seed: 0,
    plugins: [comparison.plugin],
    stages: {
      ...Object.fromEntries(runs.map((run) => [run.node, { _component_: comparison.importer, stageDir: path.join(run.runDir, "stages", run.stage) }])),
      [comparisonStage]: { _component_: comparison.compare, baseline: baseline.node, candidates: candidates.map((run) => run.node), ...options }
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
    const manifests = yield* Effect.forEach([options.baselineRun, ...options.candidateRuns], (runDir) =>
      Effect.map(readRunManifest(path.resolve(runDir)), (manifest) => ({ dir: path.resolve(runDir), manifest })))
    const offered = yield* comparisonsOf(manifests[0]!.dir, manifests[0]!.manifest)
    const evaluations = [...new Set(offered.flatMap((comparison) => comparison.evaluations))]
    const runs = yield* Effect.forEach(manifests, ({ dir, manifest }) =>
      Effect.map(findEvaluationStage(dir, manifest, evaluations, options.stage), (stage) => ({
        manifest,
        componentId: manifest.stages[stage]!.componentId,
        run: { runDir: dir, runId: manifest.runId, stage, node: nodeNameFor(manifest.runId, taken), model: modelOf(manifest, stage) } satisfies ComparedRun
      })))
    const [baseline, ...candidates] = runs as [typeof runs[0], ...typeof runs]
    const comparison = offered.find((offer) => offer.evaluations.includes(baseline.componentId))
    if (comparison === undefined) {
      return yield* new RunDirInvalid({
        dir: baseline.run.runDir,
        message: `stage "${baseline.run.stage}" is a ${baseline.componentId} stage, which no loaded comparison stage compares (they compare: ${evaluations.join(", ")})`,
        fix: "name an evaluation stage with --stage <name>"
      })
    }
    const odd = candidates.find((candidate) => !comparison.evaluations.includes(candidate.componentId))
    if (odd !== undefined) {
      return yield* new RunDirInvalid({
        dir: odd.run.runDir,
        message: `stage "${odd.run.stage}" is a ${odd.componentId} stage; ${comparison.id} compares ${comparison.evaluations.join(", ")} stages (the baseline's is ${baseline.componentId})`,
        fix: "compare runs evaluated the same way, or name the stage with --stage <name>"
      })
    }
    const recipeDir = baseline.manifest.recipeDir ?? baseline.run.runDir
    const document = comparisonRecipe(
      { plugin: absoluteSpecifier(comparison.plugin.specifier, recipeDir), importer: comparison.importer, compare: comparison.id },
      baseline.run,
      candidates.map((run) => run.run),
      { ...options.options }
    )
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
    metric: Flag.String("metric").pipe(
      Flag.withDescription("Per-instance metric deciding 'improved', as the comparison stage names it (SuperNI: rougeL = the paper's headline, exactMatch, official); default: the stage's"),
      Flag.optional
    ),
    resamples: Flag.Int("resamples").pipe(Flag.withDescription("Bootstrap resamples (default: the comparison stage's)"), Flag.optional),
    seed: Flag.Int("seed").pipe(Flag.withDescription("Bootstrap seed (default: the comparison stage's seed)"), Flag.optional)
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
      // Only what was given: each comparison stage decodes (and defaults) its own options.
      options: {
        ...Option.match(seed, { onNone: () => ({}), onSome: (value) => ({ seed: value }) }),
        ...Option.match(metric, { onNone: () => ({}), onSome: (value) => ({ metric: value }) }),
        ...Option.match(resamples, { onNone: () => ({}), onSome: (value) => ({ resamples: value }) })
      }
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
  Command.withDescription("Paired per-task comparison of finished runs' evaluations (e.g. SuperNI) (A = baseline, B... = candidates), run through the engine under runs/"),
  Command.withExamples([
    { command: "refine-af compare runs/self-instruct-… runs/rlaf-…", description: "Compare two runs' evaluations" },
    { command: "refine-af compare runs/a runs/b runs/c --stage eval --metric official", description: "Pick the stage and metric; several candidates" }
  ])
)
