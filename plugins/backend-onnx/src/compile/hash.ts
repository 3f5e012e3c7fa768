/**
 * Content hashes for the session cache: a compiled session is reused when the
 * program (ops, attributes, constants, static shapes — the shape bucket), the
 * baked weights and the compile settings are all the same.
 */
import type { HostTensor, Program, QuantisedWeight } from "@refine-af/tensor"
import { programHash } from "@refine-af/tensor"
import { createHash } from "node:crypto"

const programHashes = new WeakMap<Program, string>()
const dataHashes = new WeakMap<HostTensor["data"], string>()

const bytesOf = (data: ArrayBufferView): Uint8Array => new Uint8Array(data.buffer, data.byteOffset, data.byteLength)

/** The tensor package's program content hash, memoised per program object (hashing a big program is not free). */
export const memoProgramHash = (program: Program): string => {
  const known = programHashes.get(program)
  if (known !== undefined) return known
  const digest = programHash(program)
  programHashes.set(program, digest)
  return digest
}

/** Hash of a host tensor's values (memoised per typed array; weights are not expected to change in place), or of the place of its stored copy. */
export const tensorHash = (tensor: HostTensor): string => {
  // A stored copy is immutable: its place names its values (which need not be read to hash them).
  if (tensor.stored !== undefined) return `${tensor.dtype}[${tensor.shape.join(",")}]@${JSON.stringify(tensor.stored)}`
  const known = dataHashes.get(tensor.data)
  if (known !== undefined) return `${tensor.dtype}[${tensor.shape.join(",")}]${known}`
  const digest = createHash("sha256").update(bytesOf(tensor.data)).digest("hex")
  dataHashes.set(tensor.data, digest)
  return `${tensor.dtype}[${tensor.shape.join(",")}]${digest}`
}

const quantisedHashes = new WeakMap<object, string>()

/** Hash of a reduced-precision weight (scheme, shape, block size, and its bytes or the place of its stored copy; memoised per weight object). */
export const quantisedHash = (weight: QuantisedWeight): string => {
  const known = quantisedHashes.get(weight)
  if (known !== undefined) return known
  const h = createHash("sha256").update(`${weight.scheme}[${weight.shape.join(",")}]`)
  if (weight.scheme === "float16") h.update(bytesOf(weight.data))
  // A stored copy is immutable: its place names its bytes (and its codes need not be read to hash them).
  else if (weight.stored !== undefined) h.update(`b${weight.blockSize}|${JSON.stringify(weight.stored)}`)
  else h.update(`b${weight.blockSize}`).update(bytesOf(weight.codes)).update(bytesOf(weight.scales))
  const digest = h.digest("hex")
  quantisedHashes.set(weight, digest)
  return digest
}

/** Cache key of one compilation. */
export const compileKey = (
  program: Program,
  constants: Readonly<Record<string, HostTensor>>,
  keepOnDevice: ReadonlyArray<string>,
  settings: object,
  quantised: Readonly<Record<string, QuantisedWeight>> = {}
): string => {
  const h = createHash("sha256").update(memoProgramHash(program))
  for (const name of Object.keys(constants).sort()) h.update(`${name}:${tensorHash(constants[name]!)}`)
  for (const name of Object.keys(quantised).sort()) h.update(`${name}:${quantisedHash(quantised[name]!)}`)
  h.update(`keep:${[...keepOnDevice].sort().join(",")}|${JSON.stringify(settings)}`)
  return h.digest("hex").slice(0, 32)
}
