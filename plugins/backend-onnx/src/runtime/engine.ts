/**
 * The engine: owns onnxruntime sessions and tensors, addressed by key / id.
 * It runs either in this thread ({@link OrtHost}) or in a worker thread
 * (`WorkerEngine`), behind the same Promise-based interface, so the Effect
 * service above does not care where sessions live.
 */
import type { DType, HostTensor, Shape } from "@refine-af/tensor"
import type { ModelBundle, Provider } from "./providers.ts"

/** Element types an engine stores: the IR's, plus uint8 for the codes of bound quantised weights. */
export type StoredDType = DType | "uint8"

/** A tensor held by an engine. `location` is "gpu-buffer" when it stays in GPU memory. */
export interface TensorRef {
  readonly id: number
  readonly dtype: StoredDType
  readonly shape: Shape
  readonly location: "cpu" | "gpu-buffer"
}

/** Result of loading a model. */
export interface Loaded {
  /** The provider the session really runs on. */
  readonly provider: Provider
  /** Why the requested provider was not used (set when the session fell back to cpu). */
  readonly fallbackReason?: string
}

/** A session/tensor owner. Feeds are host tensors or refs from the same engine. */
export interface Engine {
  /**
   * Creates the session for `key` unless it exists. `deviceOutputs` should stay on the device;
   * `memoryPattern` true lays intermediate tensors out in one planned block (`CompileOptions.allocation: planned`).
   */
  readonly load: (key: string, bundle: ModelBundle, deviceOutputs: ReadonlyArray<string>, memoryPattern: boolean) => Promise<Loaded>
  readonly run: (
    key: string,
    feeds: Readonly<Record<string, HostTensor | TensorRef>>,
    outputs: ReadonlyArray<string>
  ) => Promise<Record<string, TensorRef>>
  /** Stores a host tensor (or the uint8 codes of a quantised weight, `StoredTensor`). */
  readonly upload: (tensor: HostTensor | StoredTensor) => Promise<TensorRef>
  readonly download: (ref: TensorRef) => Promise<HostTensor>
  readonly release: (ref: TensorRef) => Promise<void>
  /**
   * The same without a Promise, where the engine can (in this thread, a CPU
   * tensor): undefined when it cannot, and the caller awaits `download`. A
   * decode step reads a dozen small outputs; each Promise round trip through
   * the service costs several microseconds.
   */
  readonly downloadNow?: (ref: TensorRef) => HostTensor | undefined
  /** `release` without a Promise (an engine in this thread). */
  readonly releaseNow?: (ref: TensorRef) => void
  /** Releases the session of `key` (session groups rebuild through it; an engine without it gets no groups: each program is compiled alone). */
  readonly unload?: (key: string) => Promise<void>
  /** Drops every session and tensor. */
  readonly close: () => Promise<void>
}

/** Packed codes of a quantised weight: stored and fed, never an IR value. */
export interface StoredTensor {
  readonly dtype: "uint8"
  readonly shape: Shape
  readonly data: Uint8Array
}

/** True for a {@link TensorRef} (vs a host tensor). */
export const isTensorRef = (value: HostTensor | TensorRef): value is TensorRef => "id" in value && !("data" in value)
