/**
 * AdamW (decoupled weight decay, bias correction from the `optim.step` input),
 * matching torch.optim.AdamW:
 *   p ← p·(1 − lr·wd);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
 *   p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)
 *
 * @example
 * ```ts
 * import { adamw } from "@refine-af/tensor"
 * const optimizer = adamw({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 })
 * ```
 */
import { add, cast, div, mul, pow, sqrt, square, sub } from "../api.ts"
import type { Tensor } from "../graph.ts"
import type { Optimizer, TrainableParam } from "./optimizer.ts"
import { stateInput } from "./optimizer.ts"

/** AdamW hyper-parameters (the learning rate is a run-time input). */
export interface AdamWConfig {
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  readonly weightDecay?: number
  /** Parameters for which weight decay applies (default: all). */
  readonly decay?: (name: string) => boolean
}

/** The AdamW optimizer; state inputs `adamw.m/<param>` and `adamw.v/<param>`. */
export const adamw = (config: AdamWConfig = {}): Optimizer => {
  const beta1 = config.beta1 ?? 0.9
  const beta2 = config.beta2 ?? 0.999
  const eps = config.eps ?? 1e-8
  const wd = config.weightDecay ?? 0.01
  return {
    name: "adamw",
    update: (g, params, grads, { lr, step }) => {
      const state: Array<{ binding: ReturnType<typeof stateInput>["binding"]; next: Tensor }> = []
      const updated = params.map((p: TrainableParam, i) => {
        const dtype = p.tensor.dtype
        const grad = grads[i]!
        const m = stateInput(g, "adamw.m", p)
        const v = stateInput(g, "adamw.v", p)
        const t = cast(step, dtype)
        const rate = cast(lr, dtype)
        const m1 = add(mul(m.tensor, beta1), mul(grad, 1 - beta1))
        const v1 = add(mul(v.tensor, beta2), mul(square(grad), 1 - beta2))
        const correction1 = sub(1, pow(g.scalar(beta1, dtype), t))
        const correction2 = sub(1, pow(g.scalar(beta2, dtype), t))
        const decayed = wd !== 0 && (config.decay?.(p.name) ?? true) ? mul(p.tensor, sub(1, mul(rate, wd))) : p.tensor
        const denom = add(div(sqrt(v1), sqrt(correction2)), eps)
        state.push({ binding: m.binding, next: m1 }, { binding: v.binding, next: v1 })
        return sub(decayed, mul(div(rate, correction1), div(m1, denom)))
      })
      return { params: updated, state }
    }
  }
}
