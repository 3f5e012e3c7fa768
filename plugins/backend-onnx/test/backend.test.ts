import { add, downloadAndReleaseAll, Graph, hostTensor, interpret, matmul, mul, numberToFloat16, float16ToNumber, relu, toFloat64 } from "@refine-af/tensor"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { maxRelativeError, withBackend } from "./support/run.ts"

const linearProgram = () => {
  const g = new Graph()
  const x = g.input("x", "float32", [2, 3])
  const w = g.parameter("w", "float32", [3, 4])
  const b = g.parameter("b", "float32", [4], { trainable: false })
  const y = relu(add(matmul(x, w), b))
  g.output("y", y)
  g.output("y_again", y)
  g.output("w", w) // same name as the parameter: a training step returns updated weights this way
  g.output("x_copy", x)
  return g.build()
}
const xs = [1, -2, 3, 0.5, 5, -6]
const ws = Array.from({ length: 12 }, (_, i) => (i - 6) / 7)
const bs = [0.1, -0.2, 0.3, 0.4]

describe("onnx backend", () => {
  it("matches the float64 interpreter, with outputs aliasing inputs, parameters and each other", async () => {
    const program = linearProgram()
    const got = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program, { constants: { b: hostTensor("float32", [4], bs) } })
        expect(exe.feeds.map((f) => f.name)).toEqual(["x", "w"])
        const out = yield* backend.run(exe, { x: hostTensor("float32", [2, 3], xs), w: hostTensor("float32", [3, 4], ws) })
        const host: Record<string, Float64Array> = {}
        for (const [name, t] of Object.entries(out)) host[name] = toFloat64(yield* backend.download(t))
        return host
      })
    )
    const reference = interpret(program, { x: xs, w: ws, b: bs })
    for (const name of ["y", "y_again", "w", "x_copy"]) {
      expect(maxRelativeError(got[name]!, reference[name]!.data), name).toBeLessThanOrEqual(1e-5)
    }
  })

  it("returns only the outputs a run asks for (in process and in a worker), and names an unknown one", async () => {
    const program = linearProgram()
    const feeds = { x: hostTensor("float32", [2, 3], xs), w: hostTensor("float32", [3, 4], ws) }
    const reference = interpret(program, { x: xs, w: ws, b: bs })
    for (const worker of [false, true]) {
      const { names, y, unknown, none } = await withBackend((backend) =>
        Effect.gen(function* () {
          const exe = yield* backend.compile(program, { constants: { b: hostTensor("float32", [4], bs) } })
          const out = yield* backend.run(exe, feeds, { outputs: ["x_copy", "y"] })
          const unknown = yield* Effect.flip(backend.run(exe, feeds, { outputs: ["y", "logits"] }))
          const none = yield* Effect.flip(backend.run(exe, feeds, { outputs: [] }))
          return { names: Object.keys(out).sort(), y: toFloat64(yield* backend.download(out.y!)), unknown, none }
        }), { worker })
      expect(names, `worker ${worker}`).toEqual(["x_copy", "y"])
      expect(maxRelativeError(y, reference["y"]!.data)).toBeLessThanOrEqual(1e-5)
      expect(unknown._tag).toBe("BackendRunError")
      expect(unknown.message).toMatch(/"logits" is not an output of this program \(outputs: y, y_again, w, x_copy\)/)
      expect(none.message).toMatch(/asked for no outputs/)
    }
  })

  it("downloads and releases several outputs in one call (in process and in a worker): the same values, each released after, a released one refused before any is", async () => {
    const program = linearProgram()
    const feeds = { x: hostTensor("float32", [2, 3], xs), w: hostTensor("float32", [3, 4], ws) }
    const reference = interpret(program, { x: xs, w: ws, b: bs })
    for (const worker of [false, true]) {
      const result = await withBackend((backend) =>
        Effect.gen(function* () {
          const exe = yield* backend.compile(program, { constants: { b: hostTensor("float32", [4], bs) } })
          const out = yield* backend.run(exe, feeds, { outputs: ["y", "x_copy"] })
          const [y, x] = yield* downloadAndReleaseAll(backend, [out.y!, out.x_copy!])
          const afterward = yield* Effect.flip(backend.download(out.y!))
          // A list holding a released tensor fails before the live one in it is released.
          const again = yield* backend.run(exe, feeds, { outputs: ["y"] })
          const refused = yield* Effect.flip(downloadAndReleaseAll(backend, [again.y!, out.x_copy!]))
          const stillThere = toFloat64(yield* backend.download(again.y!))
          return { y: toFloat64(y!), x: toFloat64(x!), afterward, refused, stillThere, batched: backend.downloadAndRelease !== undefined }
        }), { worker })
      expect(result.batched).toBe(true)
      expect(maxRelativeError(result.y, reference["y"]!.data), `worker ${worker}`).toBeLessThanOrEqual(1e-5)
      expect(Array.from(result.x)).toEqual(Array.from(xs))
      expect(result.afterward._tag).toBe("DeviceTensorError")
      expect(result.refused._tag).toBe("DeviceTensorError")
      expect(maxRelativeError(result.stillThere, reference["y"]!.data)).toBeLessThanOrEqual(1e-5)
    }
  })

  it("puts large baked weights in external data and can store them as float16", async () => {
    const g = new Graph()
    const x = g.input("x", "float32", [1, 64])
    const w = g.parameter("w", "float32", [64, 32], { trainable: false })
    g.output("y", matmul(x, w))
    const program = g.build()
    const weights = Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i) / 3)
    const input = Array.from({ length: 64 }, (_, i) => Math.cos(i))
    const run = (float16Weights: boolean) =>
      withBackend(
        (backend) =>
          Effect.gen(function* () {
            const exe = yield* backend.compile(program, { constants: { w: hostTensor("float32", [64, 32], weights) } })
            const out = yield* backend.run(exe, { x: hostTensor("float32", [1, 64], input) })
            return toFloat64(yield* backend.download(out.y!))
          }),
        { float16Weights, externalThreshold: 1024 }
      )
    const full = await run(false)
    expect(maxRelativeError(full, interpret(program, { x: input, w: weights }).y!.data)).toBeLessThanOrEqual(1e-5)
    const half = await run(true)
    const halfWeights = weights.map((v) => float16ToNumber(numberToFloat16(v)))
    expect(maxRelativeError(half, interpret(program, { x: input, w: halfWeights }).y!.data)).toBeLessThanOrEqual(1e-5)
    expect(maxRelativeError(half, full)).toBeGreaterThan(0) // the weights really were rounded
  })

  it("keeps outputs as backend tensors that feed the next run (a training loop's state)", async () => {
    const g = new Graph()
    const state = g.input("state", "float32", [4])
    const step = g.input("step", "float32", [4])
    g.output("state", add(mul(state, g.scalar(2, "float32")), step))
    const program = g.build()
    const final = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program, { keepOnDevice: ["state"] })
        let current = yield* backend.upload(hostTensor("float32", [4], [1, 2, 3, 4]))
        const increment = hostTensor("float32", [4], [1, 1, 1, 1])
        for (let i = 0; i < 3; i++) {
          const out = yield* backend.run(exe, { state: current, step: increment })
          yield* backend.release(current)
          current = out.state!
        }
        const error = yield* backend.download({ ...current, handle: { released: true } }).pipe(Effect.flip)
        expect(error._tag).toBe("DeviceTensorError")
        return toFloat64(yield* backend.download(current))
      })
    )
    // s → 2s + 1 three times: 8s + 7
    expect(Array.from(final)).toEqual([15, 23, 31, 39])
  })

  it("rejects a released tensor, missing / mis-shaped / unknown feeds with tagged errors", async () => {
    const program = linearProgram()
    const tags = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program, { constants: { b: hostTensor("float32", [4], bs) } })
        const x = hostTensor("float32", [2, 3], xs)
        const w = hostTensor("float32", [3, 4], ws)
        const missing = yield* backend.run(exe, { x }).pipe(Effect.flip)
        const misshaped = yield* backend.run(exe, { x, w: hostTensor("float32", [4, 3], ws) }).pipe(Effect.flip)
        const unknown = yield* backend.run(exe, { x, w, z: x }).pipe(Effect.flip)
        const device = yield* backend.upload(w)
        yield* backend.release(device)
        const released = yield* backend.run(exe, { x, w: device }).pipe(Effect.flip)
        const badConstant = yield* backend.compile(program, { constants: { nope: x } }).pipe(Effect.flip)
        return [missing, misshaped, unknown, released, badConstant].map((e) => `${e._tag}:${e._tag === "BackendFeedError" ? e.name : ""}`)
      })
    )
    expect(tags).toEqual(["BackendFeedError:w", "BackendFeedError:w", "BackendFeedError:z", "DeviceTensorError:", "BackendCompileError:"])
  })

  it("reuses the compiled session for the same program and shapes, and compiles a new one for a new shape bucket", async () => {
    const build = (rows: number) => {
      const g = new Graph()
      g.output("y", relu(g.input("x", "float32", [rows, 8])))
      return g.build()
    }
    const keys = await withBackend((backend) =>
      Effect.gen(function* () {
        const a = yield* backend.compile(build(4))
        const b = yield* backend.compile(build(4))
        const c = yield* backend.compile(build(16))
        return [a.key, b.key, c.key]
      })
    )
    expect(keys[0]).toBe(keys[1])
    expect(keys[2]).not.toBe(keys[0])
  })
})
