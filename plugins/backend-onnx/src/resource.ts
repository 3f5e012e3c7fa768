/**
 * Recipe component `backend-onnx/onnx`: provides the `Backend` service.
 *
 * @example
 * ```yaml
 * resources:
 *   compute:
 *     _component_: backend-onnx/onnx
 *     provider: webgpu   # cpu | webgpu | cuda; falls back to cpu with a warning
 *     threads: 0         # onnxruntime intra-op threads, 0 = one per core
 *     worker: true       # run sessions in a worker thread
 *     fp16: false        # store frozen float32 weights as float16
 * ```
 */
import { defineResource } from "@refine-af/core"
import { Backend } from "@refine-af/tensor"
import { Effect, Schema } from "effect"
import { makeOnnxBackend } from "./onnx-backend.ts"

/** Options of `backend-onnx/onnx`. */
export const OnnxResourceOptions = Schema.Struct({
  provider: Schema.optionalKey(Schema.Literals(["cpu", "webgpu", "cuda"])),
  threads: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  worker: Schema.optionalKey(Schema.Boolean),
  fp16: Schema.optionalKey(Schema.Boolean)
})

/** The resource component. */
export const onnxResource = defineResource({
  description: "Runs tensor programs with onnxruntime (cpu | webgpu | cuda, CPU fallback with a warning).",
  provides: Backend,
  options: OnnxResourceOptions,
  make: (ctx) =>
    Effect.gen(function* () {
      const provider = ctx.options.provider ?? "cpu"
      const warnings: Array<string> = []
      const backend = yield* makeOnnxBackend(
        { provider, threads: ctx.options.threads ?? 0, worker: ctx.options.worker ?? false, float16Weights: ctx.options.fp16 ?? false },
        (requested, reason) =>
          warnings.push(`${ctx.name}: execution provider "${requested}" failed to start (${reason.trim().replace(/\s+/g, " ")}); running on cpu instead. Install the provider's runtime or set provider: cpu`)
      )
      // Fallbacks happen inside compile; forward them to the event stream right after each compile.
      return {
        ...backend,
        compile: (program, options) =>
          backend.compile(program, options).pipe(
            Effect.tap(() => Effect.forEach(warnings.splice(0), (w) => ctx.events.warn(w), { discard: true }))
          )
      }
    })
})
