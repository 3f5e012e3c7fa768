/**
 * Whole-recipe validation once plugins are loaded: every node against its
 * component, then the recipe DAG of stages and resources (`dag.ts`). Collects every problem.
 */
import type { CatalogEntry } from "../plugin/catalog.ts"
import type { ResourceComponent, StageComponent } from "../plugin/manifest.ts"
import type { JsonRecord } from "../stage/context.ts"
import type { RecipeProblem } from "./errors.ts"
import { recipeDag } from "./dag.ts"
import { portTypeProblems } from "./port-types.ts"
import { checkNode, resolveComponent, type CheckedNode, type NodeCheckScope } from "./nodes.ts"
import type { DocPath, PositionIndex } from "./positions.ts"
import type { LoadedPlugin, ResolvedRecipe, ResolvedResource, ResolvedStage } from "./resolved.ts"
import type { RawNode, RecipeOutline } from "./structure.ts"

/** Everything validation reads. */
export interface ValidationInput {
  readonly file: string
  /** Folder relative path options resolve from. */
  readonly recipeDir: string
  readonly outline: RecipeOutline
  readonly document: JsonRecord
  readonly plugins: ReadonlyArray<LoadedPlugin>
  readonly catalog: ReadonlyMap<string, CatalogEntry>
  readonly positions: PositionIndex
  /** The recipe file as shown in problems. */
  readonly shownFile: string
  /** True when some listed plugin failed to load (already reported). */
  readonly pluginsIncomplete: boolean
}

/** Validates every node and both graphs; returns the resolved recipe or every problem. */
export const validateRecipe = (
  input: ValidationInput
): { readonly recipe?: ResolvedRecipe; readonly problems: ReadonlyArray<RecipeProblem> } => {
  const { outline, positions } = input
  const problems: Array<RecipeProblem> = []
  const components = new Map<RawNode, CatalogEntry | undefined>()
  for (const node of [...outline.resources, ...outline.stages]) {
    const resolved = resolveComponent(node, { ...input, recipeFile: input.shownFile })
    problems.push(...resolved.problems)
    components.set(node, resolved.entry)
  }
  const scope: NodeCheckScope = {
    catalog: input.catalog,
    plugins: input.plugins,
    positions,
    pluginsIncomplete: input.pluginsIncomplete,
    recipeFile: input.shownFile,
    recipeDir: input.recipeDir,
    stageNames: outline.stages.map((stage) => stage.name),
    resourceComponents: new Map(outline.resources.map((resource) => [resource.name, components.get(resource)]))
  }
  const checked: Array<CheckedNode> = []
  for (const [node, entry] of components) {
    if (entry === undefined) continue
    const result = checkNode(node, entry, scope)
    problems.push(...result.problems)
    if (result.checked !== undefined) checked.push(result.checked)
  }
  const stages = checked.filter((node) => node.raw.section === "stages")
  const resources = checked.filter((node) => node.raw.section === "resources")
  const stageByName = new Map(stages.map((node) => [node.raw.name, node]))
  for (const node of checked) {
    const connections = [
      ...Object.entries(node.inputs).map(([port, producer]) => ({ port, shown: port, producer, path: [port] as DocPath })),
      ...Object.entries(node.inputLists).flatMap(([port, producers]) =>
        producers.map((producer, index) => ({ port, shown: `${port}[${index}]`, producer, path: [port, index] as DocPath }))
      )
    ]
    for (const { port, shown, producer, path } of connections) {
      const expected = node.entry.component.inputs?.[port]?.schema
      const produced = stageByName.get(producer)?.entry.component
      if (expected === undefined || produced?.kind !== "stage" || produced.output === undefined) continue
      const label = `${node.raw.section === "stages" ? "stage" : "resource"} "${node.raw.name}" (${node.entry.id})`
      problems.push(...portTypeProblems(expected, produced.output, { label, port: shown, producer, path: [node.raw.section, node.raw.name, ...path], positions }))
    }
  }
  const dag = recipeDag(checked.map((node) => ({ section: node.raw.section, name: node.raw.name, inputs: node.inputs, inputLists: node.inputLists, uses: node.uses })), positions)
  problems.push(...dag.problems)
  if (problems.length > 0) return { problems }

  const common = (node: CheckedNode) => ({
    name: node.raw.name,
    componentId: node.entry.id,
    plugin: node.entry.plugin,
    options: node.options,
    rawOptions: node.rawOptions,
    uses: node.uses
  })
  const recipe: ResolvedRecipe = {
    file: input.file,
    recipeDir: input.recipeDir,
    name: outline.name,
    ...(outline.description === undefined ? {} : { description: outline.description }),
    seed: outline.seed,
    plugins: input.plugins,
    resources: Object.fromEntries(resources.map((node): [string, ResolvedResource] => [
      node.raw.name,
      { ...common(node), component: node.entry.component as ResourceComponent, inputs: node.inputs }
    ])),
    stages: Object.fromEntries(stages.map((node): [string, ResolvedStage] => [
      node.raw.name,
      { ...common(node), component: node.entry.component as StageComponent, inputs: node.inputs, ...(Object.keys(node.inputLists).length > 0 ? { inputLists: node.inputLists } : {}) }
    ])),
    order: dag.stageOrder,
    resourceOrder: dag.resourceOrder,
    document: input.document
  }
  return { recipe, problems: [] }
}
