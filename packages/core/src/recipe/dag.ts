/**
 * The recipe DAG: stages and resources are nodes of one graph. A stage depends
 * on the stages its input ports name and the resources its slots name; a
 * resource on the resources it uses and the stages it is built from (a model
 * plus a trained adapter). One order and one cycle check cover both.
 */
import { problemAt, type RecipeProblem } from "./errors.ts"
import { dependencyOrder } from "./graph.ts"
import type { PositionIndex } from "./positions.ts"
import type { NodeSection } from "./structure.ts"

/** A node of the DAG: its section, name and connections. */
export interface DagNode {
  readonly section: NodeSection
  readonly name: string
  /** Input port → stage name. */
  readonly inputs: Readonly<Record<string, string>>
  /** List port → stage names (each one an edge). */
  readonly inputLists?: Readonly<Record<string, ReadonlyArray<string>>>
  /** Slot → resource name. */
  readonly uses: Readonly<Record<string, string>>
}

const idOf = (section: NodeSection, name: string) => `${section}:${name}`

const kindOf = (section: NodeSection) => (section === "stages" ? "stage" : "resource")

/** The dependencies of a node, as DAG ids. */
const dependencyIds = (node: DagNode): Array<string> => [
  ...Object.values(node.inputs).map((stage) => idOf("stages", stage)),
  ...Object.values(node.inputLists ?? {}).flat().map((stage) => idOf("stages", stage)),
  ...Object.values(node.uses).map((resource) => idOf("resources", resource))
]

/** Both orders (stages to run, resources to make) or every cycle as a problem. */
export const recipeDag = (
  nodes: ReadonlyArray<DagNode>,
  positions: PositionIndex
): { readonly stageOrder: ReadonlyArray<string>; readonly resourceOrder: ReadonlyArray<string>; readonly problems: ReadonlyArray<RecipeProblem> } => {
  // Resources first: with no stage-fed resource the stage order is the stage graph's own.
  const sorted = [...nodes.filter((node) => node.section === "resources"), ...nodes.filter((node) => node.section === "stages")]
  const byId = new Map(sorted.map((node) => [idOf(node.section, node.name), node]))
  const result = dependencyOrder([...byId.keys()], (id) => dependencyIds(byId.get(id)!))
  if (result._tag === "Ordered") {
    const pick = (section: NodeSection) => result.order.map((id) => byId.get(id)!).filter((node) => node.section === section).map((node) => node.name)
    return { stageOrder: pick("stages"), resourceOrder: pick("resources"), problems: [] }
  }
  const problems = result.cycles.map((cycle) => {
    const members = cycle.map((id) => byId.get(id)!)
    const first = members[0]!
    const sections = new Set(members.map((node) => node.section))
    if (sections.size === 1) {
      return problemAt(
        positions.keyAt([first.section, first.name]),
        `${first.section} form a cycle: ${members.map((node) => node.name).join(" → ")}`,
        first.section === "stages"
          ? "a stage cannot read (directly or not) its own output: remove one of these input connections"
          : "a resource cannot use itself (directly or not): remove one of these slot connections"
      )
    }
    return problemAt(
      positions.keyAt([first.section, first.name]),
      `stages and resources form a cycle: ${members.map((node) => `${kindOf(node.section)} ${node.name}`).join(" → ")}`,
      "a resource built from a stage's output cannot be used by that stage or by any stage it reads: remove one of these connections"
    )
  })
  return { stageOrder: [], resourceOrder: [], problems }
}
