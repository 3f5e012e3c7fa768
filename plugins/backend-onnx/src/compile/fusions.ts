/**
 * Subgraphs the compiler emits as one onnxruntime kernel instead of one node
 * per IR op. A decode step of a small model is dominated by per-node cost,
 * not arithmetic: RMSNorm alone is seven nodes (`x·x`, mean, `+ε`, sqrt,
 * reciprocal, `x·r`, `·w`), twice per layer.
 *
 * RMSNorm `w · (x · rsqrt(mean(x·x, last axis) + ε))` (float32, as
 * `rmsNorm` in @refine-af/tensor builds it) becomes onnxruntime's
 * `SimplifiedLayerNormalization` (registered in the standard domain; CPU,
 * CUDA and WebGPU kernels), which onnxruntime may further fuse with a
 * preceding residual add. A match needs every intermediate value to be used
 * only inside the pattern: in a training step the backward pass reads them,
 * so nothing is fused there and the math stays exactly the IR's.
 *
 * Rotary embeddings `x·cos + rotate_half(x)·sin` (`applyRotary`: two
 * slices, a negation, a concat, two products and a sum per q and per k)
 * become onnxruntime's `com.microsoft::RotaryEmbedding`, fed the first half of
 * the per-token tables as its cos/sin cache [B·S, D/2] and position ids
 * 0..B·S−1, so each token reads its own row. The kernel uses one half for
 * both, so only tables the caller declares (`rotaryTables` of CompileOptions:
 * halves equal) qualify. The same privacy rule holds.
 *
 * Weight-left products: `x·Wᵀ` with a fed (bound, not baked) weight W [N, K]
 * and a few rows in x (batched decode) is emitted as `(W·xᵀ)ᵀ`. onnxruntime's
 * CPU MatMul packs its right operand on every run unless it is a constant it
 * pre-packed; with W on the right (`Transpose` + `MatMul`, fused by
 * onnxruntime into `FusedMatMul transB`) a bound weight is re-packed each
 * step, which is what makes shared weights slower than baked ones at batch
 * 4-32. On the left W is streamed as stored and only xᵀ [K, rows] is packed.
 * Below 4 rows the kernel's 16-wide column panels are mostly padding (a GEMV
 * at one row is faster as is) and above 32 the per-run packing is amortised
 * (prefill, training), so those keep the plain form (measured with
 * onnxruntime 1.30 on 2 AMD EPYC cores; tools/bench-llama reports
 * `weightLeftOverPlain`). With AVX-512 kernels and K ≥ 1024 the weight-left
 * form already wins at 2-3 rows, where re-packing W costs more than the
 * padded panels (`weightLeftFrom` in runtime/cpu-features.ts).
 * Each output is the same dot product over K in the same order, so results
 * match the plain form to float32 rounding.
 */
import type { Node as IrNode, NodeId, Program } from "@refine-af/tensor"

/** One fused RMSNorm: its input, its weight and ε, emitted at the final multiply. */
export interface RmsNormFusion {
  readonly x: NodeId
  readonly weight: NodeId
  readonly epsilon: number
}

/** One fused rotary embedding `x·cos + rotate_half(x)·sin`: x [B, heads, S, D], tables [B, S, D] (halves equal, as `rotaryTables` builds them). */
export interface RotaryFusion {
  readonly x: NodeId
  readonly cos: NodeId
  readonly sin: NodeId
}

/** What the compiler emits differently: fused nodes by the IR node whose value they produce, and the IR nodes they absorb. */
export interface FusionPlan {
  readonly rmsNorms: ReadonlyMap<NodeId, RmsNormFusion>
  readonly rotaries: ReadonlyMap<NodeId, RotaryFusion>
  readonly skipped: ReadonlySet<NodeId>
}

/** One product `x·Wᵀ` the compiler emits in another form: x [..., K] with `rows` = product of its leading dims, W [N, K] a fed parameter. */
export interface WeightProduct {
  readonly x: NodeId
  readonly weight: NodeId
  readonly rows: number
}

/** Rows of x for which the weight-left form is used (inclusive), unless a {@link WeightLeftFrom} table says fewer. */
export const WEIGHT_LEFT_ROWS = { min: 4, max: 32 } as const

/**
 * From how many rows a product uses the weight-left form, by its inner size K:
 * `[k, rows]` pairs, the pair with the largest `k` ≤ K applies (none: {@link WEIGHT_LEFT_ROWS}.min).
 */
export type WeightLeftFrom = ReadonlyArray<readonly [k: number, rows: number]>

/** The fewest rows from which `from` uses the weight-left form at inner size `k`. */
export const weightLeftMinRows = (from: WeightLeftFrom | undefined, k: number): number =>
  (from ?? []).reduce<readonly [number, number] | undefined>((best, pair) => (pair[0] <= k && (best === undefined || pair[0] >= best[0]) ? pair : best), undefined)?.[1] ?? WEIGHT_LEFT_ROWS.min
/** Weights smaller than this many elements (LoRA factors) keep the plain form. */
const WEIGHT_LEFT_MIN_ELEMENTS = 1 << 16

/** Who reads each node's value (IR node ids; a node reading a value twice appears twice). */
export const consumersOf = (program: Program): Map<NodeId, Array<{ node: NodeId; slot: number }>> => {
  const consumers = new Map<NodeId, Array<{ node: NodeId; slot: number }>>()
  for (const node of program.nodes) {
    node.inputs.forEach((input, slot) => {
      const list = consumers.get(input) ?? []
      list.push({ node: node.id, slot })
      consumers.set(input, list)
    })
  }
  return consumers
}

const scalarConstant = (node: IrNode): number | undefined => {
  if (node.op !== "Constant") return undefined
  const value = (node.attrs as { value: ArrayLike<number> }).value
  return value.length === 1 ? value[0] : undefined
}

/**
 * The fusions of `program`; `enabled: false` plans none (benchmarks compare
 * both). Rotary embeddings fuse only over the inputs named in `rotaryTables`
 * (the caller's promise that their halves are equal; the fused kernel reads
 * only the first half).
 */
export const planFusions = (program: Program, enabled: boolean, rotaryTables: ReadonlySet<string> = new Set()): FusionPlan => {
  const rmsNorms = new Map<NodeId, RmsNormFusion>()
  const rotaries = new Map<NodeId, RotaryFusion>()
  const skipped = new Set<NodeId>()
  if (!enabled) return { rmsNorms, rotaries, skipped }
  const consumers = consumersOf(program)
  const outputs = new Set(program.outputs.map((o) => o.id))
  const nodes = program.nodes
  // A value the pattern may absorb: not a program output and read once, by `reader`.
  const private_ = (id: NodeId, reader: NodeId) => {
    const uses = consumers.get(id) ?? []
    return !outputs.has(id) && uses.length === 1 && uses[0]!.node === reader
  }
  const other = (node: IrNode, id: NodeId) => (node.inputs[0] === id ? node.inputs[1]! : node.inputs[0]!)
  for (const scaled of nodes) {
    // scaled = w · normed (either operand order), normed = x · r, r = rsqrt(mean(x·x) + ε)
    if (scaled.op !== "Mul" || scaled.dtype !== "float32") continue
    for (const normedId of new Set(scaled.inputs)) {
      const normed = nodes[normedId]!
      if (normed.op !== "Mul" || !private_(normedId, scaled.id)) continue
      const weightId = other(scaled, normedId)
      const weight = nodes[weightId]!
      const width = scaled.shape[scaled.shape.length - 1]
      if (weight.dtype !== "float32" || weight.shape.length !== 1 || weight.shape[0] !== width) continue
      if (normed.shape.length !== scaled.shape.length || normed.shape.some((d, i) => d !== scaled.shape[i])) continue
      const match = matchInverseRms(nodes, normed, private_)
      if (match === undefined) continue
      rmsNorms.set(scaled.id, { x: match.x, weight: weightId, epsilon: match.epsilon })
      for (const id of [normedId, ...match.absorbed]) skipped.add(id)
      break
    }
  }
  if (rotaryTables.size > 0) {
    for (const node of nodes) {
      const match = matchRotary(nodes, node, private_, rotaryTables)
      if (match === undefined) continue
      rotaries.set(node.id, { x: match.x, cos: match.cos, sin: match.sin })
      for (const id of match.absorbed) skipped.add(id)
    }
  }
  // Constants (ε) and table reshapes (`unsqueeze(cos, 1)`) read only by absorbed nodes would be unused.
  for (const node of nodes) {
    if ((node.op !== "Constant" && node.op !== "Unsqueeze") || outputs.has(node.id)) continue
    const uses = consumers.get(node.id) ?? []
    if (uses.length > 0 && uses.every((u) => skipped.has(u.node))) skipped.add(node.id)
  }
  return { rmsNorms, rotaries, skipped }
}

/**
 * `x·unsqueeze(cos, 1) + concat(−x[..., D/2:], x[..., :D/2])·unsqueeze(sin, 1)`
 * (`applyRotary` of @refine-af/tensor; operands of Add and Mul in either order)
 * with every intermediate private: x, the tables and the absorbed nodes.
 */
const matchRotary = (
  nodes: ReadonlyArray<IrNode>,
  sum: IrNode,
  private_: (id: NodeId, reader: NodeId) => boolean,
  tables: ReadonlySet<string>
): { x: NodeId; cos: NodeId; sin: NodeId; absorbed: Array<NodeId> } | undefined => {
  if (sum.op !== "Add" || sum.dtype !== "float32" || sum.shape.length !== 4) return undefined
  const [b, , s, d] = sum.shape as [number, number, number, number]
  if (d % 2 !== 0) return undefined
  // A promised table input [B, S, D] seen through unsqueeze(·, 1).
  const table = (id: NodeId): NodeId | undefined => {
    const u = nodes[id]!
    if (u.op !== "Unsqueeze" || (u.attrs as { axes: ReadonlyArray<number> }).axes.join() !== "1") return undefined
    const t = nodes[u.inputs[0]!]!
    if (t.op !== "Input" || !tables.has((t.attrs as { name: string }).name)) return undefined
    return t.dtype === "float32" && t.shape.length === 3 && t.shape[0] === b && t.shape[1] === s && t.shape[2] === d ? t.id : undefined
  }
  const halfOf = (id: NodeId, x: NodeId, start: number): boolean => {
    const n = nodes[id]!
    if (n.op !== "Slice" || n.inputs[0] !== x) return false
    const { axes, starts, ends, steps } = n.attrs as { axes: ReadonlyArray<number>; starts: ReadonlyArray<number>; ends: ReadonlyArray<number>; steps: ReadonlyArray<number> }
    return axes.length === 1 && axes[0] === 3 && starts[0] === start && ends[0] === start + d / 2 && steps[0] === 1
  }
  for (const [cosSide, sinSide] of [[0, 1], [1, 0]] as const) {
    const direct = nodes[sum.inputs[cosSide]!]!
    const rotated = nodes[sum.inputs[sinSide]!]!
    if (direct.op !== "Mul" || rotated.op !== "Mul" || !private_(direct.id, sum.id) || !private_(rotated.id, sum.id)) continue
    for (const xSlot of [0, 1]) {
      const x = direct.inputs[xSlot]!
      const cos = table(direct.inputs[1 - xSlot]!)
      if (cos === undefined || nodes[x]!.shape.join() !== sum.shape.join()) continue
      for (const rotSlot of [0, 1]) {
        const rot = nodes[rotated.inputs[rotSlot]!]!
        const sin = table(rotated.inputs[1 - rotSlot]!)
        if (sin === undefined || rot.op !== "Concat" || (rot.attrs as { axis: number }).axis !== 3 || rot.inputs.length !== 2 || !private_(rot.id, rotated.id)) continue
        const [negId, firstId] = rot.inputs as [NodeId, NodeId]
        const negated = nodes[negId]!
        if (negated.op !== "Neg" || !private_(negId, rot.id) || !private_(firstId, rot.id) || !halfOf(firstId, x, 0)) continue
        const secondId = negated.inputs[0]!
        if (!private_(secondId, negId) || !halfOf(secondId, x, d / 2)) continue
        return { x, cos, sin, absorbed: [direct.id, rotated.id, rot.id, negId, firstId, secondId] }
      }
    }
  }
  return undefined
}

/** `x·Wᵀ` products with a fed float32 weight W [N, K] (Transpose + MatMul in the IR), by MatMul id. */
const fedWeightProducts = (program: Program, fed: (parameter: NodeId) => boolean): Map<NodeId, WeightProduct> => {
  const products = new Map<NodeId, WeightProduct>()
  const nodes = program.nodes
  for (const node of nodes) {
    if (node.op !== "MatMul" || node.dtype !== "float32") continue
    const [xId, tId] = node.inputs as [NodeId, NodeId]
    const t = nodes[tId]!
    if (t.op !== "Transpose" || t.shape.length !== 2) continue
    const weight = nodes[t.inputs[0]!]!
    if (weight.op !== "Parameter" || weight.dtype !== "float32" || !fed(weight.id)) continue
    const x = nodes[xId]!
    if (x.shape.length < 2) continue
    const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1)
    products.set(node.id, { x: xId, weight: weight.id, rows })
  }
  return products
}

/**
 * The weight-left products of `program` (see the module comment): MatMul
 * nodes by id. `fed` says whether a parameter is a run-time feed (bound
 * weight) rather than a constant.
 */
export const planWeightLeft = (program: Program, fed: (parameter: NodeId) => boolean, enabled: boolean, from?: WeightLeftFrom): ReadonlyMap<NodeId, WeightProduct> => {
  const matmuls = new Map<NodeId, WeightProduct>()
  if (!enabled) return matmuls
  for (const [id, product] of fedWeightProducts(program, fed)) {
    const weight = program.nodes[product.weight]!
    if (weight.shape[0]! * weight.shape[1]! < WEIGHT_LEFT_MIN_ELEMENTS) continue
    if (product.rows < weightLeftMinRows(from, weight.shape[1]!) || product.rows > WEIGHT_LEFT_ROWS.max) continue
    matmuls.set(id, product)
  }
  return matmuls
}

/** The products `x·Wᵀ` (MatMul nodes by id) whose weight W `read` picks: float32 parameters to multiply transposed in place. */
export const planTransposedRight = (program: Program, read: (parameter: NodeId) => boolean): ReadonlyMap<NodeId, WeightProduct> => fedWeightProducts(program, read)

/** Rows of x up to which a bound wide, short-K weight is read through its [K, N] copy. */
export const TRANSPOSED_COPY_ROWS = 3
/** Weights need at least this many elements (16 MiB at float32: a vocabulary head) and at most this K. */
const TRANSPOSED_COPY_MIN_ELEMENTS = 1 << 22
const TRANSPOSED_COPY_MAX_K = 512

/**
 * Products `x·Wᵀ` at 1-3 rows with a bound float32 weight W [N, K] that is
 * large and short in K (the vocabulary head of a small model) are emitted as
 * `x·Wkn` with a [K, N] copy of W the backend makes once per bound weight and
 * shares across programs. MLAS's one-row kernel for a transposed right
 * operand is a dot product per output and is 1.3-1.8× slower at K = 384 than
 * its kernel for an untransposed one (32000 × 384 head: 0.89 vs 1.59 ms on one
 * 2-core machine, 0.92 vs 1.22 on another; pre-packed baked 0.92 / 0.84), and
 * within 10% at K = 2048, none for small weights
 * (`tools/bench-llama/gemv-layouts.ts`). End to end the copy bought 1.13× at
 * batch 1 on the 30M model (K = 384) and 1.03× on the 120M (K = 768), not worth
 * its 94 MiB there, hence K ≤ 512 (`tools/bench-llama`, `transposedCopiesOverNone`).
 * The copy costs the weight's bytes once, so only weights in `bound` (shared
 * by the caller's programs) qualify.
 * Sums run over K in the same order, so results match to float32 rounding.
 */
export const planTransposedCopies = (program: Program, bound: (parameter: NodeId) => boolean, enabled: boolean): ReadonlyMap<NodeId, WeightProduct> => {
  const matmuls = new Map<NodeId, WeightProduct>()
  if (!enabled) return matmuls
  for (const [id, product] of fedWeightProducts(program, bound)) {
    const [n, k] = program.nodes[product.weight]!.shape as [number, number]
    if (n * k < TRANSPOSED_COPY_MIN_ELEMENTS || k > TRANSPOSED_COPY_MAX_K || product.rows > TRANSPOSED_COPY_ROWS) continue
    matmuls.set(id, product)
  }
  return matmuls
}

/** The `Transpose` nodes of weights that only `rewritten` products read (emitted no more). */
export const unreadTransposes = (program: Program, rewritten: ReadonlySet<NodeId>): ReadonlySet<NodeId> => {
  const skipped = new Set<NodeId>()
  const consumers = consumersOf(program)
  const outputs = new Set(program.outputs.map((o) => o.id))
  for (const matmul of rewritten) {
    const tId = program.nodes[matmul]!.inputs[1]!
    const uses = consumers.get(tId) ?? []
    if (!outputs.has(tId) && uses.every((u) => rewritten.has(u.node) && u.slot === 1)) skipped.add(tId)
  }
  return skipped
}

/** `normed = x · rsqrt(mean(x·x, last axis, keepdims) + ε)`: x, ε and the absorbed nodes. */
const matchInverseRms = (
  nodes: ReadonlyArray<IrNode>,
  normed: IrNode,
  private_: (id: NodeId, reader: NodeId) => boolean
): { x: NodeId; epsilon: number; absorbed: Array<NodeId> } | undefined => {
  for (const [slot, rootId] of normed.inputs.entries()) {
    const root = nodes[rootId]!
    const x = normed.inputs[1 - slot]!
    if (root.op !== "Rsqrt" || !private_(rootId, normed.id)) continue
    const shifted = nodes[root.inputs[0]!]!
    if (shifted.op !== "Add" || !private_(shifted.id, root.id)) continue
    const [a, b] = shifted.inputs as [NodeId, NodeId]
    const epsilonFirst = scalarConstant(nodes[a]!)
    const meanId = epsilonFirst !== undefined ? b : a
    const epsilon = epsilonFirst ?? scalarConstant(nodes[b]!)
    const mean = nodes[meanId]!
    if (epsilon === undefined || mean.op !== "ReduceMean" || !private_(meanId, shifted.id)) continue
    const { axes, keepdims } = mean.attrs as { axes: ReadonlyArray<number>; keepdims: boolean }
    const rank = normed.shape.length
    if (!keepdims || axes.length !== 1 || (axes[0] !== -1 && axes[0] !== rank - 1)) continue
    const squared = nodes[mean.inputs[0]!]!
    if (squared.op !== "Mul" || squared.inputs[0] !== x || squared.inputs[1] !== x || !private_(squared.id, meanId)) continue
    if (nodes[x]!.dtype !== "float32" || nodes[x]!.shape.length !== rank) continue
    return { x, epsilon, absorbed: [rootId, shifted.id, meanId, squared.id] }
  }
  return undefined
}
