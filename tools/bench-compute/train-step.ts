/**
 * (b) Runs the training-step program on the onnx backend (CPU) for a few steps,
 * feeding parameters and AdamW state back as device-resident outputs.
 */
import { makeOnnxBackend } from "@refine-af/backend-onnx"
import type { DeviceTensor, HostTensor } from "@refine-af/tensor"
import { hostTensor, Rng, sizeOf, stepInputNames, toFloat64 } from "@refine-af/tensor"
import { Effect, Exit, Scope } from "effect"
import { configRopeFrequencies, leftPadRows, makeStepFeeds } from "@refine-af/models"
import { benchProvider } from "../gpu-check/bench-env.ts"
import { benchLlamaConfig, trainConfig, trainStepProgram } from "./model.ts"

/** An open training-step benchmark on our backend: call `step()` repeatedly, then `close()`. */
export interface TrainStepRunner {
  readonly compileMs: number
  /** Nodes of the IR training-step program. */
  readonly nodes: number
  /** Runs one step (state stays in the backend); returns its wall time and loss. */
  readonly step: () => Promise<{ readonly ms: number; readonly loss: number }>
  readonly close: () => Promise<void>
}

/** Deterministic pseudo-random weights in ±1/√fan_in (norm weights 1, optimizer state 0); only timing is compared with PyTorch. */
const weights = (shape: ReadonlyArray<number>, seed: number, init: "parameter" | "zeros", name: string): HostTensor => {
  const data = new Float32Array(sizeOf(shape))
  if (init === "zeros") return { dtype: "float32", shape, data }
  if (name.includes("norm")) return { dtype: "float32", shape, data: data.fill(1) }
  const scale = 1 / Math.sqrt(shape[shape.length - 1]!)
  const rng = new Rng(seed + 1)
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-scale, scale)
  return { dtype: "float32", shape, data }
}

/** Compiles the training step and prepares weights, AdamW state and a fixed batch. */
export const openTrainStep = async (threads: number): Promise<TrainStepRunner> => {
  const scope = await Effect.runPromise(Scope.make())
  const c = trainConfig
  const { program, carry } = trainStepProgram()
  const backend = await Effect.runPromise(Scope.provide(makeOnnxBackend({ provider: benchProvider(), threads, worker: false, float16Weights: false }), scope))
  const started = performance.now()
  const exe = await Effect.runPromise(backend.compile(program, { keepOnDevice: carry.map((b) => b.output) }))
  const compileMs = performance.now() - started
  const tokens = c.batch * c.seq
  const ids = Array.from({ length: tokens }, (_, i) => (i * 7919) % c.vocab) // same batch as train_step_torch.py
  const config = benchLlamaConfig()
  const rows = Array.from({ length: c.batch }, (_, r) => ids.slice(r * c.seq, (r + 1) * c.seq))
  const frequencies = configRopeFrequencies(config, c.seq)
  const batch = {
    // Rope tables and causal masks are host feeds of the trunk (positions 0..seq-1 in every row).
    ...makeStepFeeds(config, frequencies, { batch: c.batch, length: c.seq, cache: 0 }, leftPadRows(rows, c.seq, 0, 0), 0),
    targets: hostTensor("int64", [c.batch, c.seq], ids.map((x) => (x * 31 + 7) % c.vocab)),
    loss_mask: hostTensor("float32", [c.batch, c.seq], new Array<number>(tokens).fill(1)),
    [stepInputNames.lr]: hostTensor("float32", [], [c.lr])
  }
  let state: Record<string, HostTensor | DeviceTensor> = {}
  carry.forEach((b, i) => (state[b.input] = weights(b.shape, i, b.init, b.input)))
  let stepNumber = 0
  const step = () =>
    Effect.runPromise(
      Effect.gen(function* () {
        stepNumber += 1
        const t = performance.now()
        const out = yield* backend.run(exe, { ...batch, ...state, [stepInputNames.step]: hostTensor("float32", [], [stepNumber]) })
        const next: Record<string, DeviceTensor> = {}
        for (const b of carry) next[b.input] = out[b.output]!
        for (const old of Object.values(state)) if ("handle" in old) yield* backend.release(old)
        state = next
        const loss = toFloat64(yield* backend.download(out["loss"]!))[0]!
        return { ms: performance.now() - t, loss }
      })
    )
  return { compileMs, nodes: program.nodes.length, step, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
