/**
 * onnxruntime's constant folding turns a node whose inputs are all constants
 * into an initializer the session keeps for its whole life. The gradient of
 * a gather scatters into zeros of the gathered tensor's shape (batch ×
 * length × vocabulary in a training step): folded, that is a resident copy
 * per session. The compiler ties large constant broadcasts to a graph input
 * (`ties.ts`); this reads the model onnxruntime itself optimised.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { gatherElements, gradients, Graph, interpret, logSoftmax, sum, type Program } from "@refine-af/tensor"
import * as ort from "onnxruntime-node"
import { afterAll, describe, expect, it } from "vitest"
import { compileProgram } from "../src/index.ts"
import { bytesOf, decodeMessage, packedInts, intOf } from "./support/proto-decode.ts"
import { maxRelativeError, withBackend } from "./support/run.ts"
import { Effect } from "effect"

const ROWS = 4
const VOCAB = 1 << 17 // 4 × 131072 float32 = 2 MiB of zeros, above the 1 MiB limit

/** d/dlogits of the summed log-probabilities of `targets` (logits a parameter, so the zeros are the gradient's). */
const gatherGradient = (): Program => {
  const g = new Graph()
  const logits = g.parameter("logits", "float32", [ROWS, VOCAB], { trainable: true })
  const targets = g.input("targets", "int64", [ROWS, 1])
  const [grad] = gradients(sum(gatherElements(logSoftmax(logits), targets, 1)), [logits])
  g.output("grad", grad!)
  return g.build()
}

const folder = mkdtempSync(nodePath.join(tmpdir(), "refine-af-test-folding-"))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

/** Element counts of the initializers in the model onnxruntime writes after optimising `bundle`. */
const optimisedInitializers = async (bytes: Uint8Array): Promise<Array<number>> => {
  const path = nodePath.join(folder, `optimised-${Math.random().toString(36).slice(2)}.onnx`)
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], graphOptimizationLevel: "all", optimizedModelFilePath: path, logSeverityLevel: 3 })
  await session.release()
  const graph = decodeMessage(bytesOf(decodeMessage(new Uint8Array(readFileSync(path))).get(7)?.[0]))
  return (graph.get(5) ?? []).map((tensor) => {
    const dims = decodeMessage(bytesOf(tensor)).get(1) ?? []
    const values = dims.length === 1 && "bytes" in dims[0]! ? packedInts(dims[0]) : dims.map(intOf)
    return values.reduce((n, d) => n * d, 1)
  })
}

describe("large constant broadcasts are not folded into session initializers", () => {
  it("a gather's gradient keeps its zeros a run-time value, and is still right", async () => {
    const program = gatherGradient()
    const { bundle } = compileProgram(program, {}, { externalThreshold: 1 << 20, float16Weights: false })
    const sizes = await optimisedInitializers(bundle.bytes)
    expect(Math.max(...sizes)).toBeLessThan(ROWS * VOCAB)

    const logits = Array.from({ length: ROWS * VOCAB }, (_, i) => Math.sin(i * 0.013))
    const targets = [5, 77, VOCAB - 1, 1000]
    const actual = await withBackend((backend) =>
      Effect.gen(function* () {
        const exe = yield* backend.compile(program, {})
        const out = yield* backend.run(exe, {
          logits: { dtype: "float32", shape: [ROWS, VOCAB], data: Float32Array.from(logits) },
          targets: { dtype: "int64", shape: [ROWS, 1], data: BigInt64Array.from(targets.map(BigInt)) }
        })
        return Array.from((yield* backend.download(out.grad!)).data as Float32Array)
      })
    )
    const expected = interpret(program, { logits, targets }).grad!.data
    expect(maxRelativeError(actual, expected, 1e-6)).toBeLessThan(1e-4)
  })
})
