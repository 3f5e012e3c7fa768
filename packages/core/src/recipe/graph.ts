/**
 * Dependency order of recipe nodes (stages by input ports, resources by
 * slots), with cycles named node by node when there is no order.
 *
 * @example
 * ```ts
 * import { dependencyOrder } from "@refine-af/core"
 * dependencyOrder(["gen", "seeds"], (n) => (n === "gen" ? ["seeds"] : []))
 * // { _tag: "Ordered", order: ["seeds", "gen"] }
 * ```
 */

/** Either every node in dependency order, or the cycles that prevent one (`[a, b, a]`: a needs b needs a). */
export type DependencyOrder =
  | { readonly _tag: "Ordered"; readonly order: ReadonlyArray<string> }
  | { readonly _tag: "Cyclic"; readonly cycles: ReadonlyArray<ReadonlyArray<string>> }

/**
 * Orders `nodes` so every node comes after the nodes it depends on; among the
 * nodes ready at a time, the one listed first goes first (stable, readable
 * run order). Dependencies on names outside `nodes` are ignored.
 */
export const dependencyOrder = (
  nodes: ReadonlyArray<string>,
  dependenciesOf: (node: string) => ReadonlyArray<string>
): DependencyOrder => {
  const known = new Set(nodes)
  const dependencies = new Map(nodes.map((node) => [node, dependenciesOf(node).filter((dep) => known.has(dep))]))
  const done = new Set<string>()
  const order: Array<string> = []
  let progressed = true
  while (progressed) {
    progressed = false
    for (const node of nodes) {
      if (!done.has(node) && dependencies.get(node)!.every((dep) => done.has(dep))) {
        done.add(node)
        order.push(node)
        progressed = true
        break
      }
    }
  }
  if (order.length === nodes.length) return { _tag: "Ordered", order }
  return { _tag: "Cyclic", cycles: findCycles(nodes.filter((node) => !done.has(node)), dependencies) }
}

/**
 * Every node left over has a dependency that is also left over, so following
 * the first such dependency from any of them must come back to a node already
 * seen: that loop is a cycle. Nodes already in a reported cycle are skipped.
 */
const findCycles = (
  remaining: ReadonlyArray<string>,
  dependencies: ReadonlyMap<string, ReadonlyArray<string>>
): Array<Array<string>> => {
  const left = new Set(remaining)
  const inCycle = new Set<string>()
  const cycles: Array<Array<string>> = []
  for (const start of remaining) {
    if (inCycle.has(start)) continue
    const walk: Array<string> = []
    let node = start
    while (!walk.includes(node)) {
      walk.push(node)
      node = dependencies.get(node)!.find((dep) => left.has(dep))!
    }
    const cycle = walk.slice(walk.indexOf(node))
    if (cycle.some((member) => inCycle.has(member))) continue
    cycle.forEach((member) => inCycle.add(member))
    cycles.push([...cycle, node])
  }
  return cycles
}
