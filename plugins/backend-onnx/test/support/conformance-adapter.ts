/**
 * Adapts the onnx backend to the tensor conformance suite's `RunProgram`:
 * float64 `Value`s in, compile + run + download, `Value`s out.
 */
import type { BackendService, HostTensor, Program, RunProgram, Value } from "@refine-af/tensor"
import { hostTensor, toFloat64 } from "@refine-af/tensor"
import { Effect, Exit, Scope } from "effect"
import type { OnnxBackendSettings } from "../../src/index.ts"
import { makeOnnxBackend } from "../../src/index.ts"
import { cpuSettings } from "./run.ts"

const toHost = (value: Value): HostTensor => hostTensor(value.dtype, value.shape, value.data)

const runOn = (backend: BackendService) => (program: Program, feeds: Readonly<Record<string, Value>>) =>
  Effect.gen(function* () {
    const exe = yield* backend.compile(program)
    const hostFeeds: Record<string, HostTensor> = {}
    for (const spec of exe.feeds) hostFeeds[spec.name] = toHost(feeds[spec.name]!)
    const out = yield* backend.run(exe, hostFeeds)
    const values: Record<string, Value> = {}
    for (const [name, tensor] of Object.entries(out)) {
      const host = yield* backend.download(tensor)
      values[name] = { dtype: host.dtype, shape: host.shape, data: toFloat64(host) }
      yield* backend.release(tensor)
    }
    return values
  })

/** A conformance adapter over one long-lived backend; call `close` when done. */
export const makeConformanceAdapter = async (
  settings: Partial<OnnxBackendSettings> = {},
  onFallback?: (provider: string, reason: string) => void
): Promise<{ readonly run: RunProgram; readonly close: () => Promise<void> }> => {
  const scope = await Effect.runPromise(Scope.make())
  const backend = await Effect.runPromise(Scope.provide(makeOnnxBackend({ ...cpuSettings, ...settings }, onFallback), scope))
  return {
    run: (program, feeds) => Effect.runPromise(runOn(backend)(program, feeds)),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
