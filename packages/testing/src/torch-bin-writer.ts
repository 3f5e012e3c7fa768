/**
 * Test helpers that write torch.save-shaped files byte by byte: a stored
 * (uncompressed) zip and a protocol-2 pickle assembled from opcodes, so
 * hostile checkpoints can be crafted without Python.
 *
 * @example
 * ```ts
 * import { op, writeTorchBin } from "@refine-af/testing"
 * // a pickle that would call os.system: the safe reader must refuse it
 * writeTorchBin("/tmp/hostile.bin", Buffer.concat([op.proto, op.global("os", "system"), op.mark, op.str("touch /tmp/pwned"), op.tuple, op.reduce, op.stop]))
 * ```
 */
import { writeFileSync } from "node:fs"

/** A zip with stored entries (CRCs left 0: the reader does not check them). */
export const storedZip = (entries: ReadonlyArray<readonly [string, Uint8Array]>): Buffer => {
  const locals: Array<Buffer> = []
  const central: Array<Buffer> = []
  let offset = 0
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(nameBytes.length, 26)
    locals.push(local, nameBytes, Buffer.from(data))
    const dir = Buffer.alloc(46)
    dir.writeUInt32LE(0x02014b50, 0)
    dir.writeUInt32LE(data.length, 20)
    dir.writeUInt32LE(data.length, 24)
    dir.writeUInt16LE(nameBytes.length, 28)
    dir.writeUInt32LE(offset, 42)
    central.push(dir, nameBytes)
    offset += 30 + nameBytes.length + data.length
  }
  const dir = Buffer.concat(central)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(dir.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, dir, end])
}

/** Pickle opcodes (protocol 2). */
export const op = {
  proto: Buffer.from([0x80, 2]),
  mark: Buffer.from("("),
  tuple: Buffer.from("t"),
  emptyTuple: Buffer.from(")"),
  emptyDict: Buffer.from("}"),
  setitems: Buffer.from("u"),
  reduce: Buffer.from("R"),
  persid: Buffer.from("Q"),
  newFalse: Buffer.from([0x88 + 1]),
  stop: Buffer.from("."),
  global: (module: string, name: string) => Buffer.from(`c${module}\n${name}\n`),
  str: (s: string) => {
    const b = Buffer.from(s)
    const head = Buffer.alloc(5)
    head.write("X", 0)
    head.writeUInt32LE(b.length, 1)
    return Buffer.concat([head, b])
  },
  int: (n: number) => {
    const b = Buffer.alloc(5)
    b.write("J", 0)
    b.writeInt32LE(n, 1)
    return b
  }
}

const tupleOf = (...items: Array<Buffer>) => Buffer.concat([op.mark, ...items, op.tuple])

/** The pickle of `{ name: Tensor }` with one float storage, as torch.save writes it. */
export const stateDictPickle = (t: { name: string; storageNumel: number; offset: number; shape: Array<number>; stride: Array<number> }): Buffer =>
  Buffer.concat([
    op.proto,
    op.global("collections", "OrderedDict"), op.emptyTuple, op.reduce,
    op.mark,
    op.str(t.name),
    op.global("torch._utils", "_rebuild_tensor_v2"),
    op.mark,
    tupleOf(op.str("storage"), op.global("torch", "FloatStorage"), op.str("0"), op.str("cpu"), op.int(t.storageNumel)), op.persid,
    op.int(t.offset),
    tupleOf(...t.shape.map(op.int)),
    tupleOf(...t.stride.map(op.int)),
    op.newFalse,
    op.global("collections", "OrderedDict"), op.emptyTuple, op.reduce,
    op.tuple,
    op.reduce,
    op.setitems,
    op.stop
  ])

/** Writes a torch.save-shaped archive: `archive/data.pkl` + `archive/data/0`. */
export const writeTorchBin = (path: string, pickle: Uint8Array, storage?: Float32Array): void => {
  const entries: Array<readonly [string, Uint8Array]> = [["archive/data.pkl", pickle]]
  if (storage !== undefined) entries.push(["archive/data/0", new Uint8Array(storage.buffer, storage.byteOffset, storage.byteLength)])
  writeFileSync(path, storedZip(entries))
}
