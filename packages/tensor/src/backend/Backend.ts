/**
 * The `Backend` service: compiles tensor-IR programs and runs them on some
 * device. `packages/tensor` only defines the contract; plugins provide it
 * (`backend-onnx/onnx` runs programs with onnxruntime on cpu | webgpu | cuda).
 *
 * Life of a program:
 * 1. `compile(program, { constants, weights })` — parameters listed in
 *    `constants` are baked in; parameters listed in `weights` are bound to
 *    backend tensors uploaded once (frozen weights shared by every program of
 *    a model: no copy per executable, not fed at run); every other parameter
 *    becomes a feed, named like the parameter, next to the program's inputs.
 *    Frozen weights in reduced precision go in `quantised`: host values
 *    (`quantiseWeight`) are baked; weights from `uploadQuantised` are bound,
 *    one stored copy for every executable.
 *    Compiling the same program with the same shapes again returns the cached
 *    executable.
 * 2. `run(executable, feeds, { outputs })` — feeds are host tensors or device
 *    tensors from an earlier run/upload; every output (or only those named in
 *    `outputs`) comes back as a {@link DeviceTensor}.
 *    Outputs named in `keepOnDevice` stay in device memory where the provider
 *    allows (weights, optimizer state, KV caches fed into the next run);
 *    the others live in host memory.
 * 3. `download(tensor)` — the values in host memory; `release(tensor)` frees it.
 *
 * One backend instance may be used by several fibers; a run holds no lock the
 * caller can see.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backend, Graph, hostTensor } from "@refine-af/tensor"
 * const program = Effect.gen(function* () {
 *   const backend = yield* Backend
 *   const g = new Graph()
 *   g.output("y", g.input("x", "float32", [2]))
 *   const exe = yield* backend.compile(g.build())
 *   const { y } = yield* backend.run(exe, { x: hostTensor("float32", [2], [1, 2]) })
 *   return yield* backend.download(y!)
 * })
 * ```
 */
import { Context, Effect } from "effect"
import type { DType, Program, Shape } from "../ir.ts"
import type { BackendError, DeviceTensorError } from "./errors.ts"
import type { HostTensor } from "./host-tensor.ts"
import type { QuantisedWeight, WeightScheme } from "./quantised.ts"

/** dtype + shape of a feed or output. */
export interface TensorSpec {
  readonly name: string
  readonly dtype: DType
  readonly shape: Shape
}

/**
 * A tensor owned by a backend (possibly in device memory). Opaque apart from its
 * type. Pass this object itself around (copies share its handle): a backend may
 * free the memory once the object is garbage-collected, and frees it at once on
 * `release`.
 */
export interface DeviceTensor {
  readonly dtype: DType
  readonly shape: Shape
  /**
   * `"host"` when the values are ordinary memory of this thread (a step can read them in place),
   * `"device"` otherwise: accelerator memory, or another thread's (a worker-thread backend).
   */
  readonly location: "host" | "device"
  /** Backend-private handle. */
  readonly handle: unknown
}

/** Options of {@link BackendService.compile}. */
export interface CompileOptions {
  /**
   * Values of parameters to bake into the executable (frozen weights), by
   * parameter name. One with a stored copy (`HostTensor.stored`) is baked
   * from that file by a backend that maps files (`mapsStoredWeights`),
   * without reading `data`.
   */
  readonly constants?: Readonly<Record<string, HostTensor>>
  /**
   * Parameters bound to backend tensors (from `upload` or a run), by parameter
   * name: frozen weights stored once and referenced by every executable bound
   * to them, instead of a copy baked into each. They are not feeds of the
   * executable; `run` passes them itself. Releasing one while an executable
   * still uses it makes that executable's runs fail with `DeviceTensorError`.
   */
  readonly weights?: Readonly<Record<string, DeviceTensor>>
  /**
   * Frozen float32 parameters held in reduced precision instead (float16, or
   * int8 / int4 block-wise; see `quantiseWeight`), by parameter name: a
   * {@link QuantisedWeight} is baked into this executable (the backend
   * computes with it where it can, e.g. a quantised matmul, and dequantises
   * otherwise); a {@link DeviceQuantisedWeight} from `uploadQuantised` is
   * bound, stored once for every executable and dequantised by each run. A
   * name must not also be in `constants` or `weights`.
   */
  readonly quantised?: Readonly<Record<string, QuantisedWeight | DeviceQuantisedWeight>>
  /** Outputs to keep in device memory between runs (the rest come back to host memory). */
  readonly keepOnDevice?: ReadonlyArray<string>
  /**
   * How a run's intermediate tensors are allocated. `per-tensor` (default):
   * each tensor allocated when it is made and freed after its last use, so the
   * peak is what is alive at once. `planned`: one block laid out from the
   * first run's allocations and reused by later runs of the same shapes
   * (fewer allocations; the block can be much larger than what is alive at
   * once: 1.75× for a LoRA training step, backend-onnx README).
   */
  readonly allocation?: "planned" | "per-tensor"
  /**
   * Inputs that hold rotary-embedding tables (cos or sin, [batch, seq, headDim])
   * whose two halves along the last axis are equal, as Hugging Face's
   * `rotate_half` convention makes them. The caller promises this of every
   * value it feeds; a backend may then run `applyRotary` over them as one
   * fused kernel that reads only the first half. Without it, op by op.
   */
  readonly rotaryTables?: ReadonlyArray<string>
  /**
   * Programs compiled with the same `group` (and the same feed and output
   * names and dtypes: one family at several shapes, like a model's decode
   * steps) may share one backend session and its copy of their baked
   * constants; a backend that cannot group compiles each on its own. The
   * caller promises that constants of the same name are the same values
   * within a group (name the group after the model).
   */
  readonly group?: string
  /**
   * Baked int8 / int4 weights (`quantised`) that have a stored copy on disk
   * (`BlockQuantisedWeight.stored`) are read from that copy and dequantised
   * at each reader, as bound ones are, instead of computed with quantised
   * matmuls: nothing of theirs is copied or pre-packed into the executable,
   * so every executable compiled this way shares the one copy the system
   * holds of the file. Baked float32 `constants` with a stored copy
   * (`HostTensor.stored`) are read from it the same way: as the file's
   * bytes, never copied, transposed or pre-packed by the executable (the
   * backend gives up its own copies of every constant for that). A backend
   * that cannot map files says so with `mapsStoredWeights` false or absent
   * (it then bakes them as usual).
   */
  readonly readStored?: boolean
  /**
   * With `readStored`: read stored int4 weights from the pre-packed form the
   * caller's baked decode programs of the same weights use (a backend with a
   * store of pre-packed forms, `servesPrepacked`, makes it first where
   * missing), so that one copy of each weight is resident for both, where the
   * backend knows that form's layout (elsewhere: from the stored copy, as
   * without it). Set it where such decode programs run or may run: the
   * pre-packed form is made once (at the first such compile) and kept on
   * disk, and it is a little larger than the stored copy.
   */
  readonly readPrepacked?: boolean
  /**
   * Baked float32 `constants`, by name, read from their stored copy as they
   * are (as `readStored` reads every one: never copied, transposed or
   * pre-packed) while the rest of the executable compiles as usual: a
   * decode step that computes with pre-packed quantised weights and reads
   * its LM head as the file's bytes, where the backend's `prefersBound`
   * says a bound weight is as fast. Names without a stored copy are baked
   * as usual. Ignored by a backend that does not map files.
   */
  readonly readAsIs?: ReadonlyArray<string>
  /**
   * For a backend that `servesPrepacked`: baked constants with a stored copy
   * must have their pre-packed forms served from files, never made in the
   * executable's own memory. When the backend cannot serve them all (its
   * store could not be written, or another process is making it), `compile`
   * fails with a `BackendCompileError` whose `prepackUnserved` gives the
   * bytes it would have pre-packed, before any session is made, so the
   * caller can check free memory and compile again without this, or not
   * bake them. Ignored by other backends.
   */
  readonly servedPrepackOnly?: boolean
}

/**
 * A reduced-precision frozen weight held by a backend (from
 * `uploadQuantised`): what it stands for, and a backend-private handle to its
 * stored parts (int codes and scales, or float16 values). Bound through
 * `CompileOptions.quantised` like a {@link DeviceTensor} through `weights`;
 * `releaseQuantised` frees it.
 */
export interface DeviceQuantisedWeight {
  readonly scheme: WeightScheme
  /** The float32 shape it stands for. */
  readonly shape: Shape
  /** Values per scale along the last axis (int schemes). */
  readonly blockSize?: number
  /** Backend-private handle. */
  readonly handle: unknown
}

/** True when a quantised weight is a backend-held one rather than host values. */
export const isDeviceQuantised = (weight: QuantisedWeight | DeviceQuantisedWeight): weight is DeviceQuantisedWeight => "handle" in weight

/** A compiled program, ready to run. */
export interface Executable {
  /** Cache key: program content hash + shapes + options. */
  readonly key: string
  /** What `run` must be fed: the program inputs, then the parameters neither baked in nor bound to `weights`. */
  readonly feeds: ReadonlyArray<TensorSpec>
  readonly outputs: ReadonlyArray<TensorSpec>
  /** The device it really runs on (after any fallback), e.g. `"cpu"`, `"webgpu"`. */
  readonly device: string
  /** Set when it was compiled into a session group (`CompileOptions.group`): it shares the group's baked constants, so more members cost no further copy. */
  readonly grouped?: boolean
}

/** A feed value. */
export type BackendFeed = HostTensor | DeviceTensor

/** Options of one run. */
export interface BackendRunOptions {
  /**
   * Return only these outputs (names of the executable's outputs; an unknown
   * name fails the run). The others are still computed where the program needs
   * them, but never copied back or allocated on the host: a generation step
   * that decodes greedily skips its [batch, vocab] logits this way. Default: all.
   */
  readonly outputs?: ReadonlyArray<string>
}

/** What a backend provides. */
export interface BackendService {
  /** Backend name, used in every error (e.g. `"onnx"`). */
  readonly name: string
  /** Whether `compile` honours `CompileOptions.readStored` and `readAsIs` (maps stored copies of quantised weights and float32 constants). */
  readonly mapsStoredWeights?: boolean
  /**
   * Whether the pre-packed form a kernel makes of a constant weight mapped
   * from a stored copy is itself served from a file (made once, mapped by
   * every program) rather than made in each program's memory: then baking a
   * stored weight into one more program costs file pages, not memory.
   */
  readonly servesPrepacked?: boolean
  /**
   * Whether a product `x·Wᵀ` of `rows` rows of x and inner size `innerSize`
   * (K of W [N, K]) should read the bound (shared) weight rather than a
   * baked constant the backend pre-packs: true where the bound weight runs
   * as fast, or slower by less than a second, pre-packed copy of the weights
   * is worth (its memory or file pages, and the pre-packing); false where
   * baking is clearly faster. Undefined: the backend does not know. A
   * runtime that keeps a baked copy for its decode steps bakes the steps
   * whose products this says to bake.
   */
  readonly prefersBound?: (rows: number, innerSize: number) => boolean
  readonly compile: (program: Program, options?: CompileOptions) => Effect.Effect<Executable, BackendError>
  readonly run: (
    executable: Executable,
    feeds: Readonly<Record<string, BackendFeed>>,
    options?: BackendRunOptions
  ) => Effect.Effect<Readonly<Record<string, DeviceTensor>>, BackendError>
  /** Copies a host tensor to the backend (device memory where the provider allows). */
  readonly upload: (tensor: HostTensor) => Effect.Effect<DeviceTensor, BackendError>
  /**
   * Stores a reduced-precision weight once (device memory where the provider
   * allows), to bind to any number of executables through
   * `CompileOptions.quantised` instead of baking a copy into each.
   */
  readonly uploadQuantised: (weight: QuantisedWeight) => Effect.Effect<DeviceQuantisedWeight, BackendError>
  /** Frees a weight from `uploadQuantised`; executables bound to it then fail with `DeviceTensorError`. */
  readonly releaseQuantised: (weight: DeviceQuantisedWeight) => Effect.Effect<void, DeviceTensorError>
  /** Copies a backend tensor to host memory. */
  readonly download: (tensor: DeviceTensor) => Effect.Effect<HostTensor, BackendError>
  /** Frees a backend tensor; using it afterwards fails with `DeviceTensorError`. */
  readonly release: (tensor: DeviceTensor) => Effect.Effect<void, DeviceTensorError>
  /**
   * Optional: `download` then `release` of each tensor, in order, as one
   * effect. A decode step reads a dozen small outputs per token; one effect
   * instead of two per tensor saves the per-effect cost where the backend can
   * read them at once (in this thread, host memory). Callers fall back to
   * `download` + `release` when it is absent (see {@link downloadAndReleaseAll}).
   */
  readonly downloadAndRelease?: (tensors: ReadonlyArray<DeviceTensor>) => Effect.Effect<Array<HostTensor>, BackendError>
}

/** Downloads and releases `tensors` in order: through the backend's batched `downloadAndRelease` where it has one. */
export const downloadAndReleaseAll = (backend: BackendService, tensors: ReadonlyArray<DeviceTensor>): Effect.Effect<Array<HostTensor>, BackendError> =>
  backend.downloadAndRelease !== undefined
    ? backend.downloadAndRelease(tensors)
    : Effect.forEach(tensors, (tensor) => Effect.flatMap(backend.download(tensor), (host) => Effect.as(Effect.ignore(backend.release(tensor)), host)))

/** The compute backend service (provided by a backend plugin's resource). */
export class Backend extends Context.Service<Backend, BackendService>()("@refine-af/tensor/Backend") {}

/** True when a feed is a backend tensor rather than a host tensor. */
export const isDeviceTensor = (feed: BackendFeed): feed is DeviceTensor => "handle" in feed && "location" in feed
