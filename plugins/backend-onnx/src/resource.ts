/**
 * Recipe component `backend-onnx/onnx`: provides the `Backend` service.
 *
 * @example
 * ```yaml
 * resources:
 *   compute:
 *     _component_: backend-onnx/onnx
 *     provider: webgpu   # cpu | webgpu | cuda; an unavailable provider is an error naming what to install...
 *     fallback: cpu      # ...unless this opts in to running on the CPU with one warning
 *     threads: 0         # onnxruntime intra-op threads, 0 = one per core
 *     worker: true       # run sessions in a worker thread
 *     fp16: false        # store baked float32 weights as float16 (weights shared by binding stay as uploaded)
 *     memory_arena: false  # onnxruntime's per-session CPU arena: faster allocation, memory grows with the number of programs
 *     prepacked_store: true  # keep pre-packed int weights in a file next to the quantised-weight cache, mapped by every session
 *     log_level: error   # onnxruntime's native log output: verbose | info | warning | error | fatal
 * ```
 */
import { defineResource, StageError, withDefault } from "@refine-af/core"
import { Backend } from "@refine-af/tensor"
import { Effect, Schema } from "effect"
import { makeOnnxBackend } from "./onnx-backend.ts"
import { checkProvider, setNativeLogLevel, type ProviderProblem } from "./runtime/provider-check.ts"


/** Options of `backend-onnx/onnx`. */
export const OnnxResourceOptions = Schema.Struct({
  provider: Schema.Literals(["cpu", "webgpu", "cuda"]).annotate({
    description: "execution provider; cuda or webgpu that cannot start is an error naming what to install"
  }).pipe(withDefault("cpu")),
  fallback: Schema.Literals(["none", "cpu"]).annotate({
    description: "cpu: run on the CPU, with one warning, when the provider cannot start (none: fail)"
  }).pipe(withDefault("none")),
  threads: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).annotate({
    description: "onnxruntime intra-op threads, 0 = one per core"
  }).pipe(withDefault(0)),
  worker: Schema.Boolean.annotate({ description: "run sessions in a worker thread" }).pipe(withDefault(false)),
  fp16: Schema.Boolean.annotate({ description: "store baked float32 weights as float16; weights bound to every program (model-llama's shared weights) stay as uploaded" }).pipe(withDefault(false)),
  memory_arena: Schema.Boolean.annotate({ description: "keep onnxruntime's per-session CPU memory arena (false: each session's activation memory is returned after its run, so memory does not grow with the number of programs)" }).pipe(withDefault(false)),
  idle_spin: Schema.Boolean.annotate({ description: "let each session's thread-pool threads keep spinning after its run returns, onnxruntime's default (false: they stop, so a program that just ran does not steal cores from the next)" }).pipe(withDefault(false)),
  prepacked_store: Schema.Boolean.annotate({
    description: "CPU: write onnxruntime's pre-packed form of int8 / int4 weights mapped from the quantised-weight cache into a file next to it, once, and map it in every session instead of pre-packing a copy in each session's memory (costs disk: ~2.5× the int codes)"
  }).pipe(withDefault(true)),
  log_level: Schema.Literals(["verbose", "info", "warning", "error", "fatal"]).annotate({
    description: "onnxruntime's native log output, process-wide, set by the first backend made"
  }).pipe(withDefault("error"))
})

const describeProblem = (problem: ProviderProblem) =>
  `execution provider "${problem.provider}" is not available: missing ${problem.missing}` +
  (problem.detail !== undefined ? ` (onnxruntime: ${problem.detail})` : "")

/** The resource component. */
export const onnxResource = defineResource({
  description: "Runs tensor programs with onnxruntime (cpu | webgpu | cuda; an unavailable provider fails unless fallback: cpu).",
  provides: Backend,
  options: OnnxResourceOptions,
  make: (ctx) =>
    Effect.gen(function* () {
      setNativeLogLevel(ctx.options.log_level)
      const requested = ctx.options.provider
      const problem = yield* Effect.promise(() => checkProvider(requested))
      if (problem !== undefined && ctx.options.fallback !== "cpu") {
        return yield* new StageError({ stage: ctx.name, message: describeProblem(problem), fix: problem.install })
      }
      if (problem !== undefined) yield* ctx.events.warn(`${ctx.name}: ${describeProblem(problem)}; running on cpu (fallback: cpu). To use it: ${problem.install}`)
      const provider = problem === undefined ? requested : "cpu"
      let warned = problem !== undefined
      const warnings: Array<string> = []
      const backend = yield* makeOnnxBackend(
        { provider, threads: ctx.options.threads, worker: ctx.options.worker, float16Weights: ctx.options.fp16, cpuMemArena: ctx.options.memory_arena, idleSpin: ctx.options.idle_spin, prepackedStore: ctx.options.prepacked_store },
        (failed, reason) => {
          // The provider passed the check but one session could not start on it: say so once.
          if (!warned) warnings.push(`${ctx.name}: execution provider "${failed}" failed to start a session (${reason.trim().replace(/\s+/g, " ")}); that program runs on cpu`)
          warned = true
        },
        (problem) => warnings.push(`${ctx.name}: ${problem}`)
      )
      return {
        ...backend,
        compile: (program, options) =>
          backend.compile(program, options).pipe(
            Effect.tap(() => Effect.forEach(warnings.splice(0), (w) => ctx.events.warn(w), { discard: true }))
          )
      }
    })
})
