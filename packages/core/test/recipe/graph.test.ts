/** Dependency order and cycle naming, checked against properties on random graphs. */
import { describe, expect, it } from "vitest"
import { dependencyOrder } from "@refine-af/core"

/** A small deterministic generator so failures reproduce. */
const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

describe("dependencyOrder", () => {
  it("puts every node after its dependencies, on random DAGs in shuffled listing order", () => {
    const random = rng(7)
    for (let trial = 0; trial < 200; trial++) {
      const size = 1 + Math.floor(random() * 12)
      // Node i may depend only on nodes j < i: acyclic by construction.
      const deps = new Map<string, Array<string>>()
      for (let i = 0; i < size; i++) {
        deps.set(`n${i}`, Array.from({ length: i }, (_, j) => `n${j}`).filter(() => random() < 0.3))
      }
      const listed = [...deps.keys()].sort(() => random() - 0.5)
      const result = dependencyOrder(listed, (node) => deps.get(node)!)
      expect(result._tag).toBe("Ordered")
      if (result._tag !== "Ordered") continue
      expect([...result.order].sort()).toEqual([...listed].sort())
      for (const [node, nodeDeps] of deps) {
        for (const dep of nodeDeps) expect(result.order.indexOf(dep)).toBeLessThan(result.order.indexOf(node))
      }
    }
  })

  it("keeps the listing order among independent nodes", () => {
    expect(dependencyOrder(["c", "a", "b"], () => [])).toEqual({ _tag: "Ordered", order: ["c", "a", "b"] })
  })

  it("ignores dependencies on unknown names (reported elsewhere as dangling)", () => {
    expect(dependencyOrder(["a"], () => ["ghost"])).toEqual({ _tag: "Ordered", order: ["a"] })
  })

  it("names each cycle once, as a closed walk along dependencies", () => {
    const deps: Record<string, Array<string>> = { a: ["b"], b: ["c"], c: ["a"], d: ["d"], e: ["a"], f: [] }
    const result = dependencyOrder(Object.keys(deps), (node) => deps[node]!)
    expect(result).toEqual({ _tag: "Cyclic", cycles: [["a", "b", "c", "a"], ["d", "d"]] })
  })

  it("finds a cycle on random graphs exactly when there is no order, and every named cycle is real", () => {
    const random = rng(11)
    for (let trial = 0; trial < 200; trial++) {
      const size = 1 + Math.floor(random() * 8)
      const nodes = Array.from({ length: size }, (_, i) => `n${i}`)
      const deps = new Map(nodes.map((node) => [node, nodes.filter(() => random() < 0.2)]))
      const result = dependencyOrder(nodes, (node) => deps.get(node)!)
      // Independent reference: a graph is acyclic iff repeatedly removing nodes without remaining dependencies empties it.
      const remaining = new Set(nodes)
      let removed = true
      while (removed) {
        removed = false
        for (const node of remaining) {
          if (deps.get(node)!.every((dep) => !remaining.has(dep))) {
            remaining.delete(node)
            removed = true
          }
        }
      }
      expect(result._tag).toBe(remaining.size === 0 ? "Ordered" : "Cyclic")
      if (result._tag === "Cyclic") {
        expect(result.cycles.length).toBeGreaterThan(0)
        for (const cycle of result.cycles) {
          expect(cycle[0]).toBe(cycle[cycle.length - 1])
          for (let i = 0; i + 1 < cycle.length; i++) expect(deps.get(cycle[i]!)).toContain(cycle[i + 1])
        }
      }
    }
  })
})
