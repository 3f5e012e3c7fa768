/**
 * `@refine-af/backend-onnx`: the compute core. Tensor-IR programs are compiled
 * to ONNX (opset 18) in memory and run with onnxruntime-node on cpu, webgpu or
 * cuda. The default export is the plugin manifest (component `onnx`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { makeOnnxBackend } from "@refine-af/backend-onnx"
 * const backend = makeOnnxBackend({ provider: "cpu", threads: 0, worker: false, float16Weights: false })
 * const scoped = Effect.scoped(backend)
 * ```
 */
import { definePlugin } from "@refine-af/core"
import { onnxResource } from "./resource.ts"

export { compileProgram, IR_VERSION, OPSET } from "./compile/compiler.ts"
export type { CompiledModel, CompilerSettings } from "./compile/compiler.ts"
export { encodeModel } from "./onnx/model.ts"
export type { OnnxModel, OnnxNode, OnnxTensor } from "./onnx/model.ts"
export type { QuantisedMatMul } from "./compile/quantised-weights.ts"
export { makeOnnxBackend } from "./onnx-backend.ts"
export type { FallbackListener, OnnxBackendSettings } from "./onnx-backend.ts"
export type { Provider } from "./runtime/providers.ts"
export { OnnxResourceOptions, onnxResource } from "./resource.ts"
/** The name part of the pre-packed store's files (`prepacked-<signature>.bin` / `.json` / `.lock`): onnxruntime's version and the CPU. */
export { storeSignature } from "./runtime/prepacked-store.ts"
export { checkProvider, cudaInstallCommand, providerFilesProblem, type NativeLogLevel, type ProviderProblem } from "./runtime/provider-check.ts"

/** The plugin manifest. */
export default definePlugin({
  name: "backend-onnx",
  version: "0.1.0",
  description: "Tensor IR → ONNX → onnxruntime-node (cpu | webgpu | cuda)",
  components: { onnx: onnxResource }
})
