/**
 * The gradient registry: op name → VJP rule. Read by autodiff only.
 */
import type { OpName } from "../ir.ts"
import { binaryVjps } from "./elementwise-binary.ts"
import { unaryVjps } from "./elementwise-unary.ts"
import { indexingVjps } from "./indexing.ts"
import { layoutVjps } from "./layout.ts"
import { matmulVjps } from "./matmul.ts"
import { reduceVjps } from "./reduce.ts"
import type { VjpRule, VjpRules } from "./types.ts"
import { windowVjps } from "./window.ts"

const all: VjpRules = { ...binaryVjps, ...unaryVjps, ...matmulVjps, ...reduceVjps, ...layoutVjps, ...windowVjps, ...indexingVjps }

/** The VJP rule of `op`, or undefined when it is not differentiable (comparisons, leaves, …). */
export const vjpRule = <K extends OpName>(op: K): VjpRule<K> | undefined => all[op] as VjpRule<K> | undefined

/** Whether `op` has a VJP rule. */
export const isDifferentiable = (op: OpName): boolean => all[op] !== undefined
