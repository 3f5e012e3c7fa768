/**
 * Test helper: a tiny model loaded onto the ONNX backend (CPU). Tests may
 * construct the backend plugin directly; the plugin's own code only ever sees
 * a `BackendService`.
 */
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import { isDeviceQuantised, type BackendService } from "@refine-af/tensor"
import { Effect, type Scope } from "effect"
import { makeLlamaRuntime, type KvCacheMode, type LlamaRuntime } from "../../src/index.ts"
import { loadWeights, openWeights } from "@refine-af/models"
import { loadModelFolder, type ModelFolder, type TinyPresetName } from "@refine-af/models"
import { tinyModel } from "./tiny-model.ts"

/** A CPU onnxruntime backend for the test's scope. */
export const cpuBackend: Effect.Effect<BackendService, never, Scope.Scope> = makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })

/** Loads a tiny preset onto a fresh CPU backend. */
export const tinyRuntime = (preset: TinyPresetName, options: { dtype?: "F32" | "F16" | "BF16"; set?: Record<string, unknown>; kvCache?: KvCacheMode } = {}) =>
  Effect.gen(function* () {
    const folder = tinyModel(preset, options)
    const backend = yield* cpuBackend
    const model: ModelFolder = yield* loadModelFolder(folder)
    const weights = yield* loadWeights(yield* openWeights(model), model.config, folder)
    const pad = model.config.padTokenId ?? 0
    const runtime: LlamaRuntime = makeLlamaRuntime(backend, model.config, weights, { contextLength: 512, padTokenId: pad < model.config.vocabSize ? pad : 0, ...(options.kvCache ? { kvCache: options.kvCache } : {}) })
    return { runtime, model, folder, backend }
  })

/** Runs a scoped test effect, surfacing failures as exceptions. */
export const runScoped = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> => Effect.runPromise(Effect.scoped(effect))

/** One decode-step program a backend compiled (input_ids [batch, 1] over a cache): shape, what it baked, whether it joined a session group. */
export interface DecodeCompile {
  readonly batch: number
  readonly cache: number
  readonly bakedQuantised: boolean
  readonly bakedConstants: boolean
  readonly grouped: boolean
  /** The constants it reads as they are (`CompileOptions.readAsIs`). */
  readonly readAsIs: ReadonlyArray<string>
}

/** `backend` recording every decode-step program it compiles; `ungrouped` strips `group`, as a backend without session groups would compile each alone. */
export const recordingDecodes = (backend: BackendService, ungrouped = false) => {
  const decodes: Array<DecodeCompile> = []
  const spy: BackendService = {
    ...backend,
    compile: (program, options) => {
      const { group: _group, ...alone } = options ?? {}
      return Effect.tap(backend.compile(program, ungrouped ? alone : options), (exe) =>
        Effect.sync(() => {
          const ids = program.inputs.find((i) => i.name === "input_ids")
          const past = program.inputs.find((i) => i.name.startsWith("past_key"))
          if (ids && past && program.nodes[ids.id]!.shape[1] === 1) {
            decodes.push({
              batch: program.nodes[ids.id]!.shape[0]!,
              cache: program.nodes[past.id]!.shape[2]!,
              bakedQuantised: Object.values(options?.quantised ?? {}).some((w) => !isDeviceQuantised(w)),
              bakedConstants: Object.keys(options?.constants ?? {}).length > 0,
              grouped: exe.grouped === true,
              readAsIs: options?.readAsIs ?? []
            })
          }
        })
      )
    }
  }
  return { spy, decodes }
}
