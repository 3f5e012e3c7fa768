/**
 * Child process of the resource test: makes `backend-onnx/onnx` with provider cuda and
 * `fallback: cpu`, compiles and runs four programs, and prints how many warnings it got. The
 * test reads this process's stderr for native onnxruntime log blocks.
 */
import type { EventSink } from "@refine-af/core"
import { Graph, hostTensor, mul, relu } from "@refine-af/tensor"
import { Effect, Schema } from "effect"
import { OnnxResourceOptions, onnxResource } from "../../src/index.ts"

const warnings: Array<string> = []
const events: EventSink = {
  progress: () => Effect.void,
  metric: () => Effect.void,
  warn: (message) => Effect.sync(() => void warnings.push(message)),
  emit: () => Effect.void
}

await Effect.runPromise(Effect.scoped(Effect.gen(function* () {
  const backend = yield* onnxResource.make({ name: "compute", options: Schema.decodeUnknownSync(OnnxResourceOptions)({ provider: "cuda", fallback: "cpu", threads: 1 }), seed: 0, uses: {}, events })
  for (let k = 1; k <= 4; k++) {
    const g = new Graph()
    g.output("y", mul(relu(g.input("x", "float32", [3])), k))
    const exe = yield* backend.compile(g.build())
    yield* backend.run(exe, { x: hostTensor("float32", [3], [-1, 0, 2]) })
  }
})))
process.stdout.write(`warnings: ${warnings.length}\n`)
