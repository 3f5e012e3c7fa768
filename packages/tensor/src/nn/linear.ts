/**
 * Linear and LoRA-linear layers, torch layout: weight [out, in], y = x·Wᵀ + b.
 * Parameter creation (`linearParams`) is separate from application (`applyLinear`)
 * so model code can create weights under its own names (e.g. HF checkpoint keys).
 *
 * @example
 * ```ts
 * import { Graph, linearParams, applyLinear } from "@refine-af/tensor"
 * const g = new Graph()
 * const x = g.input("x", "float32", [2, 8])
 * const q = linearParams(g, "q_proj", 8, 4, { dtype: "float32", lora: { rank: 2, alpha: 4 } })
 * g.output("y", applyLinear(x, q))
 * ```
 */
import { add, matmul, mul, transposeLast2 } from "../api.ts"
import type { Graph, Tensor } from "../graph.ts"
import type { DType } from "../ir.ts"

/** LoRA adapter settings: ΔW = (alpha / rank)·B·A with A [rank, in], B [out, rank]. */
export interface LoraOptions {
  readonly rank: number
  readonly alpha: number
}

/** Options of {@link linearParams}. */
export interface LinearOptions {
  readonly dtype: DType
  /** Add a bias vector (default false, as in Llama). */
  readonly bias?: boolean
  /** Whether the base weight (and bias) train (default: true without LoRA, false with it). */
  readonly trainable?: boolean
  /** Attach a trainable LoRA adapter on top of a frozen base. */
  readonly lora?: LoraOptions
}

/** The parameters of one linear layer. */
export interface LinearParams {
  readonly weight: Tensor
  readonly bias?: Tensor
  readonly lora?: { readonly a: Tensor; readonly b: Tensor; readonly scale: number }
}

/** Declares `${name}.weight` [out, in] (and `.bias`, and PEFT-named `.lora_A.weight` / `.lora_B.weight`). */
export const linearParams = (g: Graph, name: string, inFeatures: number, outFeatures: number, options: LinearOptions): LinearParams => {
  const trainable = options.trainable ?? options.lora === undefined
  const weight = g.parameter(`${name}.weight`, options.dtype, [outFeatures, inFeatures], { trainable })
  const bias = options.bias ? g.parameter(`${name}.bias`, options.dtype, [outFeatures], { trainable }) : undefined
  const lora =
    options.lora === undefined
      ? undefined
      : {
          a: g.parameter(`${name}.lora_A.weight`, options.dtype, [options.lora.rank, inFeatures]),
          b: g.parameter(`${name}.lora_B.weight`, options.dtype, [outFeatures, options.lora.rank]),
          scale: options.lora.alpha / options.lora.rank
        }
  return { weight, ...(bias ? { bias } : {}), ...(lora ? { lora } : {}) }
}

/** y = x·Wᵀ (+ b) (+ scale·(x·Aᵀ)·Bᵀ) for x [..., in]. */
export const applyLinear = (x: Tensor, p: LinearParams): Tensor => {
  let y = matmul(x, transposeLast2(p.weight))
  if (p.lora !== undefined) {
    const delta = matmul(matmul(x, transposeLast2(p.lora.a)), transposeLast2(p.lora.b))
    y = add(y, mul(delta, p.lora.scale))
  }
  return p.bias === undefined ? y : add(y, p.bias)
}
