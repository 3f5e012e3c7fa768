/**
 * Import-cycle detection over a directed graph (files, or packages) with
 * Tarjan's strongly connected components: every component of size > 1, or a
 * node importing itself, is a cycle to report.
 */
export const findCycles = (graph: ReadonlyMap<string, ReadonlyArray<string>>): string[][] => {
  let nextIndex = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const cycles: string[][] = []

  const connect = (node: string): void => {
    index.set(node, nextIndex)
    low.set(node, nextIndex)
    nextIndex++
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        connect(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!))
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== node)
      const selfLoop = (graph.get(node) ?? []).includes(node)
      if (component.length > 1 || selfLoop) cycles.push(component.reverse())
    }
  }

  for (const node of graph.keys()) if (!index.has(node)) connect(node)
  return cycles
}
