/**
 * Safe reading of PyTorch `.bin` checkpoints (`torch.save(model.state_dict())`,
 * the zip format of torch ≥ 1.6): the zip is parsed, `data.pkl` goes through the
 * restricted unpickler (no code runs), and each tensor is checked against its
 * storage — dtype, storage byte size, shape and view bounds — before its bytes
 * are read and converted to float32.
 *
 * @example
 * ```ts
 * import { openTorchBin } from "@refine-af/models"
 * const bin = openTorchBin("/models/rm/pytorch_model.bin")
 * const w = bin.readFloat32("out_proj.weight")
 * bin.close()
 * ```
 */
import { bfloat16BitsToFloat, halfBitsToFloat } from "../safetensors/dtype.ts"
import { TorchTensorError, TorchZipError } from "./errors.ts"
import { storageDtypes, type TensorRecord, unpickleStateDict } from "./unpickler.ts"
import { openZip } from "./zip.ts"

const itemSize: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }

/** Largest tensor accepted (elements): a guard against absurd shapes before any allocation. */
export const maxTensorElements = 2 ** 31 - 1

export interface TorchBinFile {
  readonly path: string
  readonly names: ReadonlyArray<string>
  readonly shape: (name: string) => ReadonlyArray<number>
  readonly readFloat32: (name: string) => Float32Array
  readonly close: () => void
}

/** Opens a `.bin` checkpoint; throws `TorchZipError` / `UnsafePickleError` / `TorchTensorError`. */
export const openTorchBin = (path: string): TorchBinFile => {
  const zip = openZip(path)
  try {
    const pickle = [...zip.entries.keys()].find((name) => /^[^/]+\/data\.pkl$/.test(name))
    if (pickle === undefined) throw new TorchZipError({ path, message: `${path} has no <name>/data.pkl; it is not a torch.save checkpoint` })
    const prefix = pickle.slice(0, -"data.pkl".length)
    const records = unpickleStateDict(zip.read(pickle), path)
    const bad = (name: string, message: string) => new TorchTensorError({ path, name, message: `${path}: tensor ${name}: ${message}; the checkpoint is corrupt or crafted — download it again or convert it to safetensors` })
    for (const [name, t] of records) {
      let numel = 1
      for (const d of t.shape) {
        if (d < 0) throw bad(name, `negative dimension in [${t.shape}]`)
        numel *= d
      }
      if (numel > maxTensorElements) throw bad(name, `shape [${t.shape}] has ${numel} elements, more than the ${maxTensorElements} a tensor may have`)
      const entry = zip.entries.get(`${prefix}data/${t.storage.key}`)
      if (entry === undefined) throw bad(name, `its storage data/${t.storage.key} is missing from the archive`)
      const size = itemSize[storageDtypes[t.storage.storageType]!]!
      if (entry.size !== t.storage.numel * size) throw bad(name, `storage data/${t.storage.key} holds ${entry.size} bytes but the pickle says ${t.storage.numel} ${t.storage.storageType} elements (${t.storage.numel * size} bytes)`)
      if (numel > 0) {
        let last = t.offset
        for (let i = 0; i < t.shape.length; i++) {
          if (t.stride[i]! < 0) throw bad(name, "negative stride")
          last += (t.shape[i]! - 1) * t.stride[i]!
        }
        if (t.offset < 0 || last >= t.storage.numel) throw bad(name, `its view (offset ${t.offset}, shape [${t.shape}], stride [${t.stride}]) reaches element ${last} of a ${t.storage.numel}-element storage`)
      }
    }
    const record = (name: string): TensorRecord => {
      const found = records.get(name)
      if (found === undefined) throw new TorchTensorError({ path, name, message: `${path} has no tensor ${name}; check that the checkpoint belongs to this architecture` })
      return found
    }
    const readFloat32 = (name: string): Float32Array => {
      const t = record(name)
      const dtype = storageDtypes[t.storage.storageType]!
      const raw = zip.read(`${prefix}data/${t.storage.key}`)
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
      const element = (i: number): number => {
        switch (dtype) {
          case "F32": return view.getFloat32(i * 4, true)
          case "F64": return view.getFloat64(i * 8, true)
          case "F16": return halfBitsToFloat(view.getUint16(i * 2, true))
          case "BF16": return bfloat16BitsToFloat(view.getUint16(i * 2, true))
          default: throw new TorchTensorError({ path, name, message: `${path}: tensor ${name} is ${t.storage.storageType}, not a floating-point tensor` })
        }
      }
      const n = t.shape.reduce((a, b) => a * b, 1)
      const out = new Float32Array(n)
      const index = new Array<number>(t.shape.length).fill(0)
      for (let k = 0; k < n; k++) {
        let at = t.offset
        for (let i = 0; i < index.length; i++) at += index[i]! * t.stride[i]!
        out[k] = element(at)
        for (let i = index.length - 1; i >= 0; i--) {
          if (++index[i]! < t.shape[i]!) break
          index[i] = 0
        }
      }
      return out
    }
    return { path, names: [...records.keys()], shape: (name) => record(name).shape, readFloat32, close: zip.close }
  } catch (error) {
    zip.close()
    throw error
  }
}
