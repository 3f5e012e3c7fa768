/**
 * SGD with optional momentum and (coupled) weight decay, matching torch.optim.SGD
 * (dampening 0, no Nesterov): g ← g + wd·p; b ← μb + g; p ← p − lr·b.
 *
 * @example
 * ```ts
 * import { sgd } from "@refine-af/tensor"
 * const optimizer = sgd({ momentum: 0.9 })
 * ```
 */
import { add, cast, mul, sub } from "../api.ts"
import type { Tensor } from "../graph.ts"
import type { Optimizer, StateBinding } from "./optimizer.ts"
import { stateInput } from "./optimizer.ts"

/** SGD hyper-parameters (the learning rate is a run-time input). */
export interface SgdConfig {
  readonly momentum?: number
  readonly weightDecay?: number
}

/** The SGD optimizer; with momentum it carries `sgd.momentum/<param>`. */
export const sgd = (config: SgdConfig = {}): Optimizer => ({
  name: "sgd",
  update: (g, params, grads, { lr }) => {
    const momentum = config.momentum ?? 0
    const wd = config.weightDecay ?? 0
    const state: Array<{ binding: StateBinding; next: Tensor }> = []
    const updated = params.map((p, i) => {
      let d = grads[i]!
      if (wd !== 0) d = add(d, mul(p.tensor, wd))
      if (momentum !== 0) {
        const buf = stateInput(g, "sgd.momentum", p)
        // Zero-initialised buffer: the first step gives b = g, as torch does.
        d = add(mul(buf.tensor, momentum), d)
        state.push({ binding: buf.binding, next: d })
      }
      return sub(p.tensor, mul(cast(lr, p.tensor.dtype), d))
    })
    return { params: updated, state }
  }
})
