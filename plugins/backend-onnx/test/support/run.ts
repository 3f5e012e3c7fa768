/** Test helpers: run an Effect that needs a scoped onnx backend. */
import type { BackendService } from "@refine-af/tensor"
import { Effect } from "effect"
import type { OnnxBackendSettings } from "../../src/index.ts"
import { makeOnnxBackend } from "../../src/index.ts"

/** Default test settings: CPU, one thread (the CI box has 2 cores shared by parallel jobs). */
export const cpuSettings: OnnxBackendSettings = { provider: "cpu", threads: 1, worker: false, float16Weights: false }

/** Runs `body` with a fresh backend; closes it afterwards. */
export const withBackend = <A, E>(
  body: (backend: BackendService) => Effect.Effect<A, E>,
  settings: Partial<OnnxBackendSettings> = {},
  onFallback?: (provider: string, reason: string) => void
): Promise<A> =>
  Effect.runPromise(
    Effect.scoped(Effect.flatMap(makeOnnxBackend({ ...cpuSettings, ...settings }, onFallback), body))
  )

/** Max relative error |a-b| / max(|b|, floor). */
export const maxRelativeError = (actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-3): number => {
  let worst = 0
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!
    const a = actual[i]!
    if (Number.isNaN(e) && Number.isNaN(a)) continue
    if (e === a) continue
    worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), floor))
  }
  return worst
}
