/**
 * A session's trainable state on the backend: adapter matrices (and value
 * head) by program parameter name, AdamW moments by state-input name, the
 * update count and the random stream. Steps swap whole tensors in; old ones
 * are released.
 */
import type { BackendError, BackendFeed, BackendService, HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import type { LlamaConfig } from "@refine-af/models"
import type { LoraAdapter, LoraPair } from "../peft/adapter.ts"
import { adapterFeeds } from "../peft/program-adapter.ts"
import { policyNames } from "./policy-program.ts"
import type { SessionRng } from "./rng.ts"

export interface PolicyState {
  /** LoRA A/B (`<module>.lora_A.weight`, …) and the value head, as fed to programs. */
  readonly params: Map<string, BackendFeed>
  /** Optimizer state by input name (`adamw.m/<param>`, `adamw.v/<param>`); absent = zeros. */
  readonly moments: Map<string, BackendFeed>
  step: number
  readonly rng: SessionRng
  /** The adapter's layout (config and module shapes); weights live in `params`. */
  readonly adapter: LoraAdapter
}

export const zeros = (shape: ReadonlyArray<number>): HostTensor => ({ dtype: "float32", shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)) })

/** Host feeds of a fresh state: the adapter's matrices and a zero value head. */
export const initialParams = (adapter: LoraAdapter, config: LlamaConfig, valueHead: boolean): Map<string, BackendFeed> => {
  const params = new Map<string, BackendFeed>(Object.entries(adapterFeeds(adapter)))
  if (valueHead) {
    params.set(policyNames.valueWeight, zeros([1, config.hiddenSize]))
    params.set(policyNames.valueBias, zeros([1]))
  }
  return params
}

/** Host values of a feed. */
export const toHost = (backend: BackendService, feed: BackendFeed): Effect.Effect<HostTensor, BackendError> =>
  "handle" in feed ? backend.download(feed) : Effect.succeed(feed)

/** Frees a feed if it is a device tensor. */
export const releaseFeed = (backend: BackendService, feed: BackendFeed | undefined) =>
  feed !== undefined && "handle" in feed ? Effect.ignore(backend.release(feed)) : Effect.void

/** The adapter with the state's current weights (downloaded). */
export const currentAdapter = (backend: BackendService, state: PolicyState): Effect.Effect<LoraAdapter, BackendError> =>
  Effect.gen(function* () {
    const pairs = new Map<string, LoraPair>()
    for (const [module, pair] of state.adapter.pairs) {
      const a = yield* toHost(backend, state.params.get(`${module}.lora_A.weight`)!)
      const b = yield* toHost(backend, state.params.get(`${module}.lora_B.weight`)!)
      pairs.set(module, { ...pair, a: Float32Array.from(a.data as Float32Array), b: Float32Array.from(b.data as Float32Array) })
    }
    // Image-side modules of a multimodal base (a loaded adapter's) are not trained: they go out as they came in.
    return { ...state.adapter, pairs }
  })

/** The adapter's current matrices as generation feeds (no copies). */
export const adapterOnly = (state: PolicyState): Record<string, BackendFeed> => {
  const feeds: Record<string, BackendFeed> = {}
  for (const module of state.adapter.pairs.keys())
    for (const m of ["A", "B"]) feeds[`${module}.lora_${m}.weight`] = state.params.get(`${module}.lora_${m}.weight`)!
  return feeds
}
