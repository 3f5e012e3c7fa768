/**
 * Random case generators for MatMul, reductions, softmax and the layout/window/indexing ops.
 */
import { concat, gather, gatherElements, logSoftmax, matmul, max, mean, pad, scatterElements, slice, softmax, squeeze, sum, unsqueeze } from "../api.ts"
import { sizeOf } from "../ir.ts"
import { rmsNorm } from "../nn/norm.ts"
import type { OpCaseGenerator } from "./case.ts"
import { constIn, floatIn, label, uniformIn } from "./inputs.ts"
import type { Rng } from "./random.ts"

/** A random non-empty sorted subset of the axes of a rank-r tensor (all when r = 0 is impossible). */
const someAxes = (rng: Rng, rank: number): Array<number> => {
  const axes = Array.from({ length: rank }, (_, i) => i).filter(() => rng.next() < 0.5)
  return axes.length > 0 ? axes : [rng.int(0, rank - 1)]
}

const reduce = (op: "ReduceSum" | "ReduceMean" | "ReduceMax"): OpCaseGenerator => ({
  op,
  differentiable: true,
  make: (rng, dtype) => {
    const shape = rng.shape(1, 4)
    const axes = someAxes(rng, shape.length)
    const keepdims = rng.next() < 0.5
    const data = op === "ReduceMax" ? rng.distinct(sizeOf(shape)) : rng.fill(sizeOf(shape), () => rng.uniform(-2, 2))
    const f = op === "ReduceSum" ? sum : op === "ReduceMean" ? mean : max
    return { label: `${label([shape])} axes=${axes} keep=${keepdims}`, inputs: [floatIn("x", dtype, shape, data)], build: ([x]) => f(x!, axes, keepdims) }
  }
})

const softmaxLike = (op: "Softmax" | "LogSoftmax"): OpCaseGenerator => ({
  op,
  differentiable: true,
  make: (rng, dtype) => {
    const shape = rng.shape(1, 4)
    const axis = rng.int(-shape.length, shape.length - 1)
    return { label: `${label([shape])} axis=${axis}`, inputs: [uniformIn(rng, "x", dtype, shape, -3, 3)], build: ([x]) => (op === "Softmax" ? softmax : logSoftmax)(x!, axis) }
  }
})

const indexIn = (rng: Rng, name: string, shape: ReadonlyArray<number>, dim: number, dtype: "int32" | "int64") =>
  constIn(name, dtype, shape, rng.fill(sizeOf(shape), () => rng.int(0, dim - 1)))

/** Generators of the structural ops. */
export const structuralGenerators: ReadonlyArray<OpCaseGenerator> = [
  {
    op: "MatMul",
    differentiable: true,
    make: (rng, dtype) => {
      const [m, k, n] = [rng.int(1, 4), rng.int(1, 4), rng.int(1, 4)]
      const batch = rng.shape(0, 2, 3, 6)
      const ba = rng.broadcastable(batch)
      const bb = rng.broadcastable(batch)
      const sa = [...ba, m, k]
      const sb = [...bb, k, n]
      return { label: label([sa, sb], "x"), inputs: [uniformIn(rng, "a", dtype, sa), uniformIn(rng, "b", dtype, sb)], build: ([a, b]) => matmul(a!, b!) }
    }
  },
  reduce("ReduceSum"),
  reduce("ReduceMean"),
  reduce("ReduceMax"),
  softmaxLike("Softmax"),
  softmaxLike("LogSoftmax"),
  {
    // RMSNorm as a whole (filed under Rsqrt, its core): backends may run the
    // pattern as one fused kernel (backend-onnx: SimplifiedLayerNormalization),
    // so the composite gets checked on every provider, not just its ops.
    op: "Rsqrt",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 3)
      const width = shape[shape.length - 1]!
      const epsilon = rng.pick([1e-6, 1e-5, 0.1])
      return {
        label: `rmsNorm ${label([shape])} eps=${epsilon}`,
        inputs: [uniformIn(rng, "x", dtype, shape, -3, 3), uniformIn(rng, "w", dtype, [width], 0.5, 2)],
        build: ([x, w]) => rmsNorm(x!, w!, epsilon)
      }
    }
  },
  {
    op: "Reshape",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(0, 4)
      const n = sizeOf(shape)
      const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0)
      const d = rng.pick(divisors)
      const target = rng.next() < 0.5 ? [d, n / d] : [n / d, 1, d]
      return { label: `${label([shape])}->${label([target])}`, inputs: [uniformIn(rng, "x", dtype, shape)], build: ([x]) => x!.graph.apply("Reshape", [x!], { shape: target }) }
    }
  },
  {
    op: "Transpose",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 4)
      const perm = shape.map((_, i) => i).sort(() => rng.next() - 0.5)
      // Unshared: the builder would turn a transpose that only moves size-1 axes into a reshape, and this case tests Transpose.
      return { label: `${label([shape])} perm=${perm}`, inputs: [uniformIn(rng, "x", dtype, shape)], build: ([x]) => x!.graph.applyUnshared("Transpose", [x!], { perm }) }
    }
  },
  {
    op: "Slice",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 4, 5, 40)
      const specs = someAxes(rng, shape.length).map((axis) => {
        const dim = shape[axis]!
        const start = rng.int(0, dim - 1)
        return { axis: rng.next() < 0.3 ? axis - shape.length : axis, start, end: rng.int(start + 1, dim), step: rng.int(1, 3) }
      })
      return { label: `${label([shape])} ${JSON.stringify(specs)}`, inputs: [uniformIn(rng, "x", dtype, shape)], build: ([x]) => slice(x!, specs) }
    }
  },
  {
    op: "Concat",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 3)
      const axis = rng.int(0, shape.length - 1)
      const count = rng.int(2, 3)
      const shapes = Array.from({ length: count }, () => shape.map((d, i) => (i === axis ? rng.int(1, 3) : d)))
      return { label: `${label(shapes, ",")} axis=${axis}`, inputs: shapes.map((s, i) => uniformIn(rng, `x${i}`, dtype, s)), build: (xs) => concat(xs, axis) }
    }
  },
  {
    op: "Expand",
    differentiable: true,
    make: (rng, dtype) => {
      const target = rng.shape(1, 4)
      const from = rng.broadcastable(target)
      return { label: `${label([from])}->${label([target])}`, inputs: [uniformIn(rng, "x", dtype, from)], build: ([x]) => x!.graph.apply("Expand", [x!], { shape: target }) }
    }
  },
  {
    op: "Squeeze",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 4).map((d) => (rng.next() < 0.5 ? 1 : d))
      if (!shape.includes(1)) shape[rng.int(0, shape.length - 1)] = 1
      const ones = shape.flatMap((d, i) => (d === 1 ? [i] : []))
      const axes = ones.filter(() => rng.next() < 0.7)
      const chosen = axes.length > 0 ? axes : [ones[0]!]
      return { label: `${label([shape])} axes=${chosen}`, inputs: [uniformIn(rng, "x", dtype, shape)], build: ([x]) => squeeze(x!, chosen) }
    }
  },
  {
    op: "Unsqueeze",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(0, 3)
      const outRank = shape.length + rng.int(1, 2)
      const axes = someAxes(rng, outRank).slice(0, outRank - shape.length)
      while (axes.length < outRank - shape.length) axes.push([...Array(outRank).keys()].find((a) => !axes.includes(a))!)
      axes.sort((a, b) => a - b)
      return { label: `${label([shape])} axes=${axes}`, inputs: [uniformIn(rng, "x", dtype, shape)], build: ([x]) => unsqueeze(x!, axes) }
    }
  },
  {
    op: "Pad",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 3)
      const pads = [...shape, ...shape].map(() => rng.int(0, 2))
      return { label: `${label([shape])} pads=${pads}`, inputs: [uniformIn(rng, "x", dtype, shape)], build: ([x]) => pad(x!, pads) }
    }
  },
  {
    op: "Trilu",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(2, 4, 4, 32)
      const upper = rng.next() < 0.5
      const k = rng.int(-2, 2)
      return { label: `${label([shape])} upper=${upper} k=${k}`, inputs: [uniformIn(rng, "x", dtype, shape)], build: ([x]) => x!.graph.apply("Trilu", [x!], { upper, k }) }
    }
  },
  {
    op: "Gather",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 3)
      const axis = rng.int(0, shape.length - 1)
      const idxShape = rng.shape(0, 2, 4, 6)
      const itype = rng.pick(["int32", "int64"] as const)
      return {
        label: `${label([shape])}[${label([idxShape])}] axis=${axis}`,
        inputs: [uniformIn(rng, "x", dtype, shape), indexIn(rng, "i", idxShape, shape[axis]!, itype)],
        build: ([x, i]) => gather(x!, i!, axis)
      }
    }
  },
  {
    op: "GatherElements",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 3)
      const axis = rng.int(0, shape.length - 1)
      const idxShape = shape.map((d, i) => (i === axis ? rng.int(1, 4) : rng.int(1, d)))
      return {
        label: `${label([shape])}[${label([idxShape])}] axis=${axis}`,
        inputs: [uniformIn(rng, "x", dtype, shape), indexIn(rng, "i", idxShape, shape[axis]!, "int64")],
        build: ([x, i]) => gatherElements(x!, i!, axis)
      }
    }
  },
  {
    op: "ScatterElements",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(1, 3)
      const axis = rng.int(0, shape.length - 1)
      const reduction = rng.pick(["none", "add"] as const)
      const idxShape = shape.map((d, i) => (i === axis ? rng.int(1, d) : rng.int(1, d)))
      // "none" with repeated indices is order-dependent: use distinct positions along the axis.
      const dim = shape[axis]!
      const idx = new Float64Array(sizeOf(idxShape))
      const inner = idxShape.slice(axis + 1).reduce((p, q) => p * q, 1)
      const perms = new Map<number, Array<number>>()
      idx.forEach((_, p) => {
        const line = Math.floor(p / (inner * idxShape[axis]!)) * inner + (p % inner)
        const pos = Math.floor(p / inner) % idxShape[axis]!
        if (!perms.has(line)) perms.set(line, [...Array(dim).keys()].sort(() => rng.next() - 0.5))
        idx[p] = reduction === "none" ? perms.get(line)![pos]! : rng.int(0, dim - 1)
      })
      return {
        label: `${label([shape])}<-${label([idxShape])} axis=${axis} ${reduction}`,
        inputs: [uniformIn(rng, "x", dtype, shape), constIn("i", "int64", idxShape, idx), uniformIn(rng, "u", dtype, idxShape)],
        build: ([x, i, u]) => scatterElements(x!, i!, u!, axis, reduction)
      }
    }
  }
]
