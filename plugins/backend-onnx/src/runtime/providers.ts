/**
 * Execution providers and session creation with an explicit CPU fallback.
 *
 * onnxruntime-node throws (it does not silently fall back) when a provider
 * cannot start: no CUDA libraries, no Vulkan adapter for WebGPU, ... We catch
 * that, report it through `onFallback` (the resource turns it into a warning
 * event) and create the session on the CPU instead.
 */
import * as ort from "onnxruntime-node"

/** Execution providers a recipe may ask for. */
export type Provider = "cpu" | "webgpu" | "cuda"

/** How sessions are created. */
export interface SessionSettings {
  readonly provider: Provider
  /** Intra-op threads (0 = onnxruntime's default: one per core). */
  readonly threads: number
  /** Turn off per-session pre-packing of constant weights (onnxruntime `session.disable_prepacking`). */
  readonly disablePrepacking?: boolean
  /** onnxruntime's per-session CPU memory arena (off unless true): each session keeps its peak activation memory. */
  readonly cpuMemArena?: boolean
  /** Let thread-pool threads keep spinning after a run returns (onnxruntime's default); off sets `session.force_spinning_stop`. */
  readonly idleSpin?: boolean
  /** onnxruntime's memory pattern (`CompileOptions.allocation: planned`): one planned block per run for the intermediate tensors; off (default) allocates them one by one. */
  readonly memoryPattern?: boolean
  /** Path prefix of onnxruntime's per-session profile (chrome-trace JSON, written when the session closes); none: no profiling. */
  readonly profilePrefix?: string
}

/** Model bytes plus the external-data files they point to (by file name). */
export interface ModelBundle {
  readonly bytes: Uint8Array
  readonly externalData: ReadonlyArray<{ readonly path: string; readonly data: Uint8Array }>
  /**
   * The folder of external initializers that are real files (immutable ones,
   * e.g. the quantised-weight cache): onnxruntime maps them from disk instead
   * of holding a copy. Their `location` is a file name in it; onnxruntime
   * refuses absolute locations, so a session reads files from one folder.
   */
  readonly folder?: string
  /**
   * Use the mapped initializers as they are: no pre-packing and no constant
   * folding in this session (onnxruntime would otherwise fold a transposed
   * copy of a mapped weight and pre-pack a copy of its own, in anonymous
   * memory, per session: measured, a 64 MiB float32 weight read as x·Wᵀ
   * costs a session +71 MiB either way, +7 MiB with both off, at the same
   * one-row speed).
   */
  readonly mappedAsIs?: boolean
  /**
   * Some mapped initializers are graph inputs too (overridable initializers:
   * constants read as they are beside ones the session pre-packs,
   * `CompileOptions.readAsIs`). onnxruntime warns of each at session
   * creation, as of a model that may want fixing; here it is the intent, so
   * such a session logs errors only.
   */
  readonly overridableInitializers?: boolean
}

/** A created session and the provider it really runs on. */
export interface CreatedSession {
  readonly session: ort.InferenceSession
  readonly provider: Provider
  /**
   * Created with `preferredOutputLocation` (WebGPU outputs kept on the device): onnxruntime-node then refuses a
   * run that fetches fewer than all outputs ("Output count mismatch.", measured on lavapipe), so every run fetches
   * them all.
   */
  readonly fetchesAll: boolean
}

/**
 * Where outputs should live. On WebGPU an output kept on the device stays a
 * GPU buffer between runs (weights, optimizer state, KV caches); on CPU and
 * CUDA (whose Node binding cannot hand out device tensors) outputs come back
 * to host memory.
 */
export const outputLocation = (provider: Provider): ort.Tensor.DataLocation =>
  provider === "webgpu" ? "gpu-buffer" : "cpu"

/**
 * Session config entries. Every compiled program is a session with its own
 * intra-op thread pool; by default onnxruntime's pool threads keep spinning for
 * a while after a run returns, so right after a prefill its idle pool's
 * spinning worker competed with the decode session's threads for the cores
 * (measured on 2 cores: the next 3-6 batch-1 decode steps took 7-17 ms instead
 * of 3.5-4). `force_spinning_stop` ends the spinning when the run returns; a
 * run still spins while it works.
 */
export const sessionConfig = (settings: SessionSettings): Record<string, string> => ({
  ...(settings.disablePrepacking === true ? { disable_prepacking: "1" } : {}),
  ...(settings.idleSpin === true ? {} : { force_spinning_stop: "1" })
})

export const sessionOptions = (
  provider: Provider,
  settings: SessionSettings,
  bundle: ModelBundle,
  deviceOutputs: ReadonlyArray<string>
): ort.InferenceSession.SessionOptions => {
  const preferred: Record<string, ort.Tensor.DataLocation> = {}
  for (const name of deviceOutputs) preferred[name] = outputLocation(provider)
  return {
    executionProviders: [provider],
    graphOptimizationLevel: "all",
    // A provider that cannot start logs its own error; we report it once, as the fallback warning.
    logSeverityLevel: provider === "cpu" ? (bundle.overridableInitializers === true ? 3 : 2) : 4,
    ...(settings.threads > 0 ? { intraOpNumThreads: settings.threads } : {}),
    enableCpuMemArena: settings.cpuMemArena === true,
    enableMemPattern: settings.memoryPattern === true,
    ...(settings.profilePrefix ? { enableProfiling: true, profileFilePrefix: settings.profilePrefix } : {}),
    extra: {
      session: { ...sessionConfig(settings), ...(bundle.folder === undefined ? {} : { model_external_initializers_file_folder_path: bundle.folder }), ...(bundle.mappedAsIs === true ? { disable_prepacking: "1" } : {}) },
      ...(bundle.mappedAsIs === true ? { optimization: { disable_specified_optimizers: "ConstantFolding" } } : {})
    },
    ...(bundle.externalData.length > 0 ? { externalData: bundle.externalData.map((f) => ({ path: f.path, data: f.data })) } : {}),
    ...(provider === "webgpu" && deviceOutputs.length > 0 ? { preferredOutputLocation: preferred } : {})
  }
}

/**
 * Creates a session on the requested provider, or on the CPU when that
 * provider throws. `onFallback` receives the provider's error message.
 */
export const createSession = async (
  bundle: ModelBundle,
  settings: SessionSettings,
  deviceOutputs: ReadonlyArray<string>,
  onFallback: (provider: Provider, reason: string) => void
): Promise<CreatedSession> => {
  if (settings.provider !== "cpu") {
    try {
      const session = await ort.InferenceSession.create(
        bundle.bytes,
        sessionOptions(settings.provider, settings, bundle, deviceOutputs)
      )
      return { session, provider: settings.provider, fetchesAll: settings.provider === "webgpu" && deviceOutputs.length > 0 }
    } catch (error) {
      onFallback(settings.provider, error instanceof Error ? error.message : String(error))
    }
  }
  const session = await ort.InferenceSession.create(bundle.bytes, sessionOptions("cpu", settings, bundle, deviceOutputs))
  return { session, provider: "cpu", fetchesAll: false }
}
