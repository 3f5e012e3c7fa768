/**
 * (a) 1024³ MatMul through our compiled program vs a hand-written single-node
 * onnxruntime model, and (c) the machine's MatMul peak as onnxruntime reaches it.
 */
import { encodeModel, makeOnnxBackend } from "@refine-af/backend-onnx"
import { Graph, matmul } from "@refine-af/tensor"
import type { HostTensor } from "@refine-af/tensor"
import { Effect } from "effect"
import * as ort from "onnxruntime-node"
import { benchProvider } from "../gpu-check/bench-env.ts"
import { type Contender, interleaved } from "./timing.ts"

const random = (n: number, size: number): HostTensor => {
  const data = new Float32Array(size * size)
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37 + n) // deterministic, no denormals
  return { dtype: "float32", shape: [size, size], data }
}

/** A single-node MatMul model written directly as ONNX (the baseline). */
const handWrittenSession = (size: number, threads: number) =>
  ort.InferenceSession.create(
    encodeModel({
      irVersion: 8,
      opsetVersion: 18,
      producerName: "bench",
      graph: {
        name: "matmul",
        nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["c"] }],
        inputs: [
          { name: "a", dataType: "float32", dims: [size, size] },
          { name: "b", dataType: "float32", dims: [size, size] }
        ],
        outputs: [{ name: "c", dataType: "float32", dims: [size, size] }],
        initializers: []
      }
    }),
    { executionProviders: [benchProvider()], intraOpNumThreads: threads, graphOptimizationLevel: "all" }
  )

/** Result of the MatMul comparison at one size. */
export interface MatmulResult {
  readonly size: number
  readonly rounds: number
  /** Minimum ms over the interleaved rounds (see `interleaved`). */
  readonly oursMs: number
  readonly handWrittenMs: number
  /** PyTorch (OpenBLAS) on the same size, timed right after in its own loop (when available). */
  readonly torchMs: number | undefined
  readonly medianMs: { readonly ours: number; readonly handWritten: number; readonly torch: number | undefined }
  /** ours throughput / hand-written throughput, from the minimum times (target ≥ 0.9). */
  readonly ratio: number
  /** The same ratio from the median times. */
  readonly medianRatio: number
  readonly oursGflops: number
  readonly handWrittenGflops: number
}

/** Runs both MatMul paths `rounds` times interleaved, then `torchMatmulMs` (when given) for the peak estimate. */
export const benchMatmul = (
  size: number,
  threads: number,
  rounds: number,
  torchMatmulMs?: (size: number) => Promise<number>
): Promise<MatmulResult> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const backend = yield* makeOnnxBackend({ provider: benchProvider(), threads, worker: false, float16Weights: false })
        const g = new Graph()
        g.output("c", matmul(g.input("a", "float32", [size, size]), g.input("b", "float32", [size, size])))
        const exe = yield* backend.compile(g.build())
        const a = random(1, size)
        const b = random(2, size)
        const session = yield* Effect.promise(() => handWrittenSession(size, threads))
        const ortFeeds = { a: new ort.Tensor("float32", a.data as Float32Array, [size, size]), b: new ort.Tensor("float32", b.data as Float32Array, [size, size]) }
        const contenders: Array<Contender> = [() => Effect.runPromise(Effect.flatMap(backend.run(exe, { a, b }), (out) => backend.release(out["c"]!))), () => session.run(ortFeeds)]
        const [ours, handWritten] = yield* Effect.promise(() => interleaved(rounds, contenders))
        // PyTorch in its own loop: its OpenBLAS threads keep spinning after a call and would slow whichever run follows.
        const torch = torchMatmulMs === undefined ? undefined : (yield* Effect.promise(() => interleaved(Math.ceil(rounds / 4), [() => torchMatmulMs(size)])))[0]
        yield* Effect.promise(() => session.release())
        const gflop = (2 * size ** 3) / 1e9
        return {
          size,
          rounds,
          oursMs: ours!.min,
          handWrittenMs: handWritten!.min,
          torchMs: torch?.min,
          medianMs: { ours: ours!.median, handWritten: handWritten!.median, torch: torch?.median },
          ratio: handWritten!.min / ours!.min,
          medianRatio: handWritten!.median / ours!.median,
          oursGflops: gflop / (ours!.min / 1000),
          handWrittenGflops: gflop / (handWritten!.min / 1000)
        }
      })
    )
  )
