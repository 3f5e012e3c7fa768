/**
 * The gradient-rule contract (the tfjs layout: op definitions in `ops/`, their
 * VJPs here). A rule builds the input cotangents with the op helpers of
 * `api.ts`; only autodiff reads rules, so `ops/` never depends on the builder.
 */
import type { Tensor } from "../graph.ts"
import type { OpAttributes, OpName } from "../ir.ts"

/** What a VJP rule gets: the node's inputs and output as graph tensors, and the output cotangent. */
export interface VjpContext<K extends OpName> {
  readonly inputs: ReadonlyArray<Tensor>
  readonly output: Tensor
  readonly attrs: OpAttributes[K]
  /** Cotangent of the output (same shape and dtype as `output`). */
  readonly dy: Tensor
  /** `needs[i]` is true when the gradient of input i is wanted; other entries may be undefined. */
  readonly needs: ReadonlyArray<boolean>
}

/** Cotangents of the inputs (undefined where not needed or not differentiable). */
export type VjpRule<K extends OpName> = (ctx: VjpContext<K>) => ReadonlyArray<Tensor | undefined>

/** VJP rules of a family of ops; an op without a rule is not differentiable. */
export type VjpRules = { readonly [K in OpName]?: VjpRule<K> }
