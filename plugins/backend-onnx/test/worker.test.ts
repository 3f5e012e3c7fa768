import { Graph, hostTensor, interpret, matmul, tanh, toFloat64 } from "@refine-af/tensor"
import type { Tensor } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { maxRelativeError, withBackend } from "./support/run.ts"

// A chain of 24 matmuls of 1024×1024 (~52 GFLOP, 0.1-0.5 s on two cores): long enough to starve timers when
// run on the main thread, and for a worker run to let many through (512×512 took ~15 ms on a fast machine: 5 ticks was luck).
const SIZE = 1024
const heavyProgram = () => {
  const g = new Graph()
  let x: Tensor = g.input("x", "float32", [SIZE, SIZE])
  const w = g.input("w", "float32", [SIZE, SIZE])
  for (let i = 0; i < 24; i++) x = tanh(matmul(x, w))
  g.output("y", x)
  return g.build()
}
// The offset keeps the chain's values near ±1 (tanh saturates): centred on zero they decayed into subnormal floats,
// which a Xeon multiplies ~24× slower (10 s per run instead of 0.42 s, and the test near its timeout).
const filled = (seed: number) => hostTensor("float32", [SIZE, SIZE], Array.from({ length: SIZE * SIZE }, (_, i) => 0.03 + Math.sin(i * seed) / 16))

/** Counts 5 ms timer ticks while one run of the heavy program is in flight, and how long the run took (ms). */
const ticksDuringRun = (worker: boolean) =>
  withBackend(
    (backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(heavyProgram())
        const feeds = { x: filled(1), w: filled(2) }
        yield* backend.run(exe, feeds) // warm-up: first run allocates
        let ticks = 0
        const timer = setInterval(() => ticks++, 5)
        const start = performance.now()
        yield* backend.run(exe, feeds)
        const ms = performance.now() - start
        clearInterval(timer)
        return { ticks, ms }
      }),
    { worker }
  )

describe("worker-thread mode", () => {
  it("computes the same results as the float64 interpreter, device tensors included", async () => {
    const g = new Graph()
    const a = g.input("a", "float32", [3, 3])
    g.output("b", tanh(matmul(a, a)))
    const program = g.build()
    const values = [0.1, 0.2, -0.3, 0.4, 0.5, 0.6, -0.7, 0.8, 0.9]
    const got = await withBackend(
      (backend) =>
        Effect.gen(function* () {
          const exe = yield* backend.compile(program, { keepOnDevice: ["b"] })
          const once = yield* backend.run(exe, { a: hostTensor("float32", [3, 3], values) })
          // Values held by the worker are not this thread's memory: callers must not plan to read them in place.
          expect(once.b!.location).toBe("device")
          const twice = yield* backend.run(exe, { a: once.b! })
          return toFloat64(yield* backend.download(twice.b!))
        }),
      { worker: true }
    )
    const inThread = await withBackend((backend) => Effect.map(backend.upload(hostTensor("float32", [1], [1])), (t) => t.location), { worker: false })
    expect(inThread).toBe("host")
    const first = interpret(program, { a: values }).b!.data
    const expected = interpret(program, { a: first }).b!.data
    expect(maxRelativeError(got, expected)).toBeLessThanOrEqual(1e-5)
  })

  it("keeps the main event loop live during a long run (and the in-thread mode does not)", async () => {
    const inWorker = await ticksDuringRun(true)
    const inThread = await ticksDuringRun(false)
    // A live loop fires most of the ticks the run's duration holds (a third allows a busy machine); a blocked one
    // fires at most once or twice around the run, however long it takes.
    expect(inWorker.ticks).toBeGreaterThanOrEqual(Math.max(3, Math.floor(inWorker.ms / 5 / 3)))
    expect(inThread.ticks).toBeLessThanOrEqual(2)
    expect(inThread.ms).toBeGreaterThan(20)
  }, 60_000)
})
