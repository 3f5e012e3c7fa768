/**
 * VJPs of the integer-indexed ops: Gather and GatherElements scatter the
 * cotangent back; ScatterElements gathers it.
 */
import { expand, gatherElements, reshape, scatterElements, zerosLike } from "../api.ts"
import type { VjpRules } from "./types.ts"

/** VJP rules of the indexing ops (indices get no gradient). */
export const indexingVjps: VjpRules = {
  Gather: ({ inputs: [data, indices], dy, attrs: { axis }, needs }) => {
    if (!needs[0]) return [undefined, undefined]
    const n = indices!.size
    const pre = data!.shape.slice(0, axis)
    const post = data!.shape.slice(axis + 1)
    const updates = reshape(dy, [...pre, n, ...post])
    const idx = expand(reshape(indices!, [...pre.map(() => 1), n, ...post.map(() => 1)]), updates.shape)
    return [scatterElements(zerosLike(data!), idx, updates, axis, "add"), undefined]
  },
  GatherElements: ({ inputs: [data, indices], dy, attrs: { axis }, needs }) => [
    needs[0] ? scatterElements(zerosLike(data!), indices!, dy, axis, "add") : undefined,
    undefined
  ],
  ScatterElements: ({ inputs: [, indices, updates], dy, attrs: { axis, reduction }, needs }) => [
    needs[0] ? (reduction === "add" ? dy : scatterElements(dy, indices!, zerosLike(updates!), axis, "none")) : undefined,
    undefined,
    needs[2] ? gatherElements(dy, indices!, axis) : undefined
  ]
}
