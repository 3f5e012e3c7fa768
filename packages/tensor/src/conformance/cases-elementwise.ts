/**
 * Random case generators for elementwise ops (unary, binary with broadcasting, Where, Clip, Cast).
 */
import type { Tensor } from "../graph.ts"
import type { DType, OpName } from "../ir.ts"
import { sizeOf } from "../ir.ts"
import type { OpCaseGenerator } from "./case.ts"
import { constIn, floatIn, label, uniformIn } from "./inputs.ts"
import type { Rng } from "./random.ts"

type Domain = (rng: Rng, n: number) => Float64Array

const wide: Domain = (rng, n) => rng.fill(n, () => rng.uniform(-2, 2))
const positive: Domain = (rng, n) => rng.fill(n, () => rng.uniform(0.5, 2))
const nonZero: Domain = (rng, n) => rng.awayFromZero(n, 0.5, 2)
const apply = (op: OpName) => (xs: ReadonlyArray<Tensor>) => xs[0]!.graph.apply(op, xs, {} as never)

/** Float 0/1 inputs compared to 0.5 give bool operands (bool feeds are awkward on some backends). */
const toBool = (t: Tensor) => t.graph.apply("Greater", [t, t.graph.scalar(0.5, t.dtype)], {})

const unary = (op: OpName, domain: Domain, differentiable = true): OpCaseGenerator => ({
  op,
  differentiable,
  make: (rng, dtype) => {
    const shape = rng.shape(0, 4)
    return { label: label([shape]), inputs: [floatIn("x", dtype, shape, domain(rng, sizeOf(shape)))], build: apply(op) }
  }
})

/** Two operands broadcasting against each other (either side may be the smaller). */
const binaryShapes = (rng: Rng) => {
  const big = rng.shape(0, 4)
  const small = rng.broadcastable(big)
  return rng.next() < 0.5 ? [big, small] : [small, big]
}

const binary = (op: OpName, a: Domain, b: Domain): OpCaseGenerator => ({
  op,
  differentiable: true,
  make: (rng, dtype) => {
    const [sa, sb] = binaryShapes(rng)
    return {
      label: label([sa!, sb!]),
      inputs: [floatIn("a", dtype, sa!, a(rng, sizeOf(sa!))), floatIn("b", dtype, sb!, b(rng, sizeOf(sb!)))],
      build: apply(op)
    }
  }
})

/** Min/Max: a on a grid, b on the shifted grid, so |a − b| ≥ 0.05 (no ties, no kinks in reach of FD). */
const gridA: Domain = (rng, n) => rng.fill(n, () => rng.int(-4, 4) * 0.3 + rng.uniform(-0.05, 0.05))
const gridB: Domain = (rng, n) => rng.fill(n, () => rng.int(-4, 4) * 0.3 + 0.15 + rng.uniform(-0.05, 0.05))

const compare = (op: OpName): OpCaseGenerator => ({
  op,
  differentiable: false,
  make: (rng, dtype) => {
    const [sa, sb] = binaryShapes(rng)
    // Small integers so equality actually happens.
    const ints = (n: number) => rng.fill(n, () => rng.int(-2, 2))
    return { label: label([sa!, sb!]), inputs: [constIn("a", dtype, sa!, ints(sizeOf(sa!))), constIn("b", dtype, sb!, ints(sizeOf(sb!)))], build: apply(op) }
  }
})

const logic = (op: "And" | "Or"): OpCaseGenerator => ({
  op,
  differentiable: false,
  make: (rng, dtype) => {
    const [sa, sb] = binaryShapes(rng)
    const bits = (n: number) => rng.fill(n, () => rng.int(0, 1))
    return {
      label: label([sa!, sb!]),
      inputs: [constIn("a", dtype, sa!, bits(sizeOf(sa!))), constIn("b", dtype, sb!, bits(sizeOf(sb!)))],
      build: ([a, b]) => a!.graph.apply(op, [toBool(a!), toBool(b!)], {})
    }
  }
})


/** Generators of every elementwise op. */
export const elementwiseGenerators: ReadonlyArray<OpCaseGenerator> = [
  binary("Add", wide, wide),
  binary("Sub", wide, wide),
  binary("Mul", wide, wide),
  binary("Div", wide, nonZero),
  binary("Pow", positive, wide),
  binary("Min", gridA, gridB),
  binary("Max", gridA, gridB),
  compare("Equal"),
  compare("Less"),
  compare("LessOrEqual"),
  compare("Greater"),
  compare("GreaterOrEqual"),
  logic("And"),
  logic("Or"),
  {
    op: "Where",
    differentiable: true,
    make: (rng, dtype) => {
      const out = rng.shape(0, 4)
      const sc = rng.broadcastable(out)
      const [sx, sy] = rng.next() < 0.5 ? [rng.broadcastable(out), out.slice()] : [out.slice(), rng.broadcastable(out)]
      const mask = rng.fill(sizeOf(sc), () => rng.int(0, 1))
      return {
        label: label([sc, sx, sy], "?"),
        inputs: [constIn("c", dtype, sc, mask), uniformIn(rng, "x", dtype, sx), uniformIn(rng, "y", dtype, sy)],
        build: ([c, x, y]) => x!.graph.apply("Where", [toBool(c!), x!, y!], {})
      }
    }
  },
  unary("Neg", wide),
  unary("Abs", nonZero),
  unary("Sign", nonZero, false),
  unary("Sqrt", positive),
  unary("Rsqrt", positive),
  unary("Reciprocal", nonZero),
  unary("Exp", wide),
  unary("Log", positive),
  unary("Tanh", wide),
  unary("Sigmoid", wide),
  unary("Silu", wide),
  unary("Relu", nonZero),
  unary("Erf", wide),
  unary("Cos", wide),
  unary("Sin", wide),
  unary("Identity", wide),
  {
    op: "Gelu",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(0, 4)
      const approximate = rng.pick(["none", "tanh"] as const)
      return { label: `${label([shape])} ${approximate}`, inputs: [uniformIn(rng, "x", dtype, shape, -3, 3)], build: ([x]) => x!.graph.apply("Gelu", [x!], { approximate }) }
    }
  },
  {
    op: "Not",
    differentiable: false,
    make: (rng, dtype) => {
      const shape = rng.shape(0, 4)
      return { label: label([shape]), inputs: [constIn("x", dtype, shape, rng.fill(sizeOf(shape), () => rng.int(0, 1)))], build: ([x]) => x!.graph.apply("Not", [toBool(x!)], {}) }
    }
  },
  {
    op: "Clip",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(0, 4)
      // Values on a grid offset from the bounds, so no value sits within FD reach of a bound.
      const data = rng.fill(sizeOf(shape), () => rng.int(-6, 6) * 0.3 + 0.1 + rng.uniform(-0.05, 0.05))
      const kind = rng.int(0, 2)
      const attrs = kind === 0 ? { min: -0.6, max: 0.9 } : kind === 1 ? { min: -0.3 } : { max: 0.3 }
      return { label: `${label([shape])} ${JSON.stringify(attrs)}`, inputs: [floatIn("x", dtype, shape, data)], build: ([x]) => x!.graph.apply("Clip", [x!], attrs) }
    }
  },
  {
    op: "Cast",
    differentiable: true,
    make: (rng, dtype) => {
      const shape = rng.shape(0, 4)
      // Float → float keeps the gradient; a round trip through int32 exercises truncation (forward only).
      const viaInt = rng.next() < 0.15
      const data = rng.fill(sizeOf(shape), () => rng.int(-5, 5) + rng.uniform(0.1, 0.9))
      const input = viaInt ? constIn("x", dtype, shape, data) : floatIn("x", dtype, shape, data)
      return {
        label: `${label([shape])} ${viaInt ? "via int32" : "float"}`,
        inputs: [input],
        build: ([x]) => {
          const g = x!.graph
          if (viaInt) return g.apply("Cast", [g.apply("Cast", [x!], { to: "int32" })], { to: dtype })
          return g.apply("Cast", [x!], { to: dtype as DType })
        }
      }
    }
  }
]
