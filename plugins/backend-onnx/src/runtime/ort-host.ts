/**
 * The in-thread engine: sessions by key, tensors by id.
 *
 * Reading back a WebGPU-resident tensor goes through a tiny Identity session
 * on the same provider whose output is on the CPU, because `getData()` on a
 * gpu-buffer tensor aborts the process in onnxruntime-node 1.30 (seen on
 * lavapipe); uploading to WebGPU goes the other way, through one whose output
 * stays on the device.
 */
import type { Shape } from "@refine-af/tensor"
import * as ort from "onnxruntime-node"
import { encodeModel } from "../onnx/model.ts"
import type { Engine, Loaded, StoredDType, TensorRef } from "./engine.ts"
import { isTensorRef } from "./engine.ts"
import { fromOrtTensor, irDtype, toOrtTensor } from "./ort-tensors.ts"
import type { ModelBundle, Provider, SessionSettings } from "./providers.ts"
import { createSession } from "./providers.ts"

interface LoadedSession extends Loaded {
  readonly session: ort.InferenceSession
  readonly fetchesAll: boolean
}

const identityModel = (dtype: StoredDType, shape: Shape): Uint8Array =>
  encodeModel({
    irVersion: 8,
    opsetVersion: 18,
    producerName: "refine-af/backend-onnx",
    graph: {
      name: "download",
      nodes: [{ opType: "Identity", inputs: ["x"], outputs: ["y"] }],
      inputs: [{ name: "x", dataType: dtype, dims: shape }],
      outputs: [{ name: "y", dataType: dtype, dims: shape }],
      initializers: []
    }
  })

/** Creates an in-thread engine. */
export const makeOrtHost = (settings: SessionSettings): Engine => {
  const sessions = new Map<string, Promise<LoadedSession>>()
  const tensors = new Map<number, ort.Tensor>()
  let nextId = 1

  const store = (tensor: ort.Tensor): TensorRef => {
    const id = nextId++
    tensors.set(id, tensor)
    return { id, dtype: tensor.type === "uint8" ? "uint8" : irDtype(tensor), shape: [...tensor.dims], location: tensor.location === "gpu-buffer" ? "gpu-buffer" : "cpu" }
  }
  const lookup = (ref: TensorRef): ort.Tensor => {
    const tensor = tensors.get(ref.id)
    if (tensor === undefined) throw new Error(`tensor #${ref.id} was released or belongs to another backend instance`)
    return tensor
  }
  const releaseRef = (ref: TensorRef): void => {
    const tensor = tensors.get(ref.id)
    tensors.delete(ref.id)
    if (tensor !== undefined && tensor.location === "gpu-buffer") tensor.dispose()
  }
  const open = (key: string, bundle: ModelBundle, deviceOutputs: ReadonlyArray<string>, memoryPattern: boolean): Promise<LoadedSession> => {
    let pending = sessions.get(key)
    if (pending === undefined) {
      let fallbackReason: string | undefined
      pending = createSession(bundle, { ...settings, memoryPattern }, deviceOutputs, (_provider: Provider, reason) => {
        fallbackReason = reason
      }).then((created) => ({ ...created, ...(fallbackReason !== undefined ? { fallbackReason } : {}) }))
      // A failed load must not poison the cache: the next call retries.
      pending.catch(() => sessions.delete(key))
      sessions.set(key, pending)
    }
    return pending
  }
  const loadedSession = async (key: string): Promise<LoadedSession> => {
    const pending = sessions.get(key)
    if (pending === undefined) throw new Error(`no session loaded for ${key}`)
    return pending
  }
  // An Identity session moving tensors of one dtype and shape between host and device: its output stays on the
  // device (`toDevice`) or comes back to the host.
  const identitySession = (toDevice: boolean, dtype: StoredDType, shape: Shape): Promise<LoadedSession> =>
    open(`${toDevice ? "upload" : "download"}:${dtype}:${shape.join("x")}`, { bytes: identityModel(dtype, shape), externalData: [] }, toDevice ? ["y"] : [], true)

  return {
    load: async (key, bundle, deviceOutputs, memoryPattern) => {
      const { provider, fallbackReason } = await open(key, bundle, deviceOutputs, memoryPattern)
      return fallbackReason !== undefined ? { provider, fallbackReason } : { provider }
    },
    run: async (key, feeds, outputs) => {
      const { session: s, fetchesAll } = await loadedSession(key)
      const ortFeeds: Record<string, ort.Tensor> = {}
      for (const [name, feed] of Object.entries(feeds)) ortFeeds[name] = isTensorRef(feed) ? lookup(feed) : toOrtTensor(feed)
      const results = await s.run(ortFeeds, fetchesAll ? [...s.outputNames] : [...outputs])
      const refs: Record<string, TensorRef> = {}
      for (const name of outputs) refs[name] = store(results[name] as ort.Tensor)
      // Outputs fetched only because the session must fetch all: device buffers nobody asked for are freed now.
      if (fetchesAll) for (const [name, tensor] of Object.entries(results)) if (!outputs.includes(name) && tensor.location === "gpu-buffer") tensor.dispose()
      return refs
    },
    upload: async (tensor) => {
      const host = new ort.Tensor(tensor.dtype, tensor.data as never, [...tensor.shape])
      if (settings.provider !== "webgpu") return store(host)
      // WebGPU: the tensor is copied to the device once, through an Identity session whose output stays there, and
      // every session it is fed to reads that buffer (a host tensor would be copied to the device by every run).
      // Where the provider keeps it on the host after all (a dtype it does not hold, a CPU fallback), the host copy.
      const loaded = await identitySession(true, tensor.dtype, tensor.shape).catch(() => undefined)
      if (loaded === undefined || loaded.provider !== "webgpu") return store(host)
      const { y } = await loaded.session.run({ x: host })
      return store(y as ort.Tensor)
    },
    downloadNow: (ref) => {
      const tensor = lookup(ref)
      return tensor.location === "gpu-buffer" ? undefined : fromOrtTensor(tensor)
    },
    download: async (ref) => {
      const tensor = lookup(ref)
      if (tensor.location !== "gpu-buffer") return fromOrtTensor(tensor)
      const { y } = await (await identitySession(false, ref.dtype, ref.shape)).session.run({ x: tensor })
      return fromOrtTensor(y as ort.Tensor)
    },
    unload: async (key) => {
      const pending = sessions.get(key)
      sessions.delete(key)
      const loaded = await pending?.catch(() => undefined)
      await loaded?.session.release()
    },
    releaseNow: releaseRef,
    release: async (ref) => releaseRef(ref),
    close: async () => {
      for (const t of tensors.values()) if (t.location === "gpu-buffer") t.dispose()
      tensors.clear()
      const all = [...sessions.values()]
      sessions.clear()
      for (const pending of all) {
        const loaded = await pending.catch(() => undefined)
        await loaded?.session.release()
      }
    }
  }
}
