/**
 * The zip container of `torch.save` files, read through a file descriptor: the
 * central directory is parsed once and each entry's bytes are read on demand.
 * torch stores entries uncompressed; compressed entries and zip64 archives are
 * refused with a message saying how to convert the checkpoint.
 *
 * @example
 * ```ts
 * import { openZip } from "@refine-af/models"
 * // const zip = openZip("pytorch_model.bin"); zip.read("archive/data.pkl"); zip.close()
 * ```
 */
import * as fs from "node:fs"
import { TorchZipError } from "./errors.ts"

export interface ZipEntry {
  readonly name: string
  readonly size: number
  /** Offset of the entry's local header. */
  readonly headerOffset: number
}

export interface ZipArchive {
  readonly path: string
  readonly entries: ReadonlyMap<string, ZipEntry>
  /** The entry's bytes (a fresh buffer of exactly its size). */
  readonly read: (name: string) => Uint8Array
  readonly close: () => void
}

const readAt = (fd: number, path: string, position: number, length: number): Buffer => {
  const buffer = Buffer.alloc(length)
  let filled = 0
  while (filled < length) {
    const n = fs.readSync(fd, buffer, filled, length - filled, position + filled)
    if (n === 0) throw new TorchZipError({ path, message: `${path} ends at byte ${position + filled} while ${length} bytes at ${position} were expected; the file is truncated — download it again` })
    filled += n
  }
  return buffer
}

/** Opens a zip archive; throws `TorchZipError` (the descriptor is closed on failure). */
export const openZip = (path: string): ZipArchive => {
  let fd: number
  try {
    fd = fs.openSync(path, "r")
  } catch (cause) {
    throw new TorchZipError({ path, message: `cannot open ${path}: ${cause instanceof Error ? cause.message : String(cause)}` })
  }
  try {
    const fileSize = fs.fstatSync(fd).size
    const tailLength = Math.min(fileSize, 22 + 65535)
    const tail = readAt(fd, path, fileSize - tailLength, tailLength)
    let eocd = -1
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i
        break
      }
    }
    if (eocd < 0) throw new TorchZipError({ path, message: `${path} is not a zip archive (no end-of-central-directory record): it is truncated, or a legacy (pre-1.6) torch.save file — re-save it with torch >= 1.6 or convert it to safetensors` })
    const count = tail.readUInt16LE(eocd + 10)
    const dirSize = tail.readUInt32LE(eocd + 12)
    const dirOffset = tail.readUInt32LE(eocd + 16)
    if (count === 0xffff || dirOffset === 0xffffffff) throw new TorchZipError({ path, message: `${path} is a zip64 archive (over 4 GB), which this reader does not support; convert the checkpoint to safetensors` })
    if (dirOffset + dirSize > fileSize) throw new TorchZipError({ path, message: `${path}: the central directory (${dirSize} bytes at ${dirOffset}) lies outside the ${fileSize}-byte file; the file is truncated or corrupt — download it again` })
    const dir = readAt(fd, path, dirOffset, dirSize)
    const entries = new Map<string, ZipEntry>()
    let at = 0
    for (let k = 0; k < count; k++) {
      if (at + 46 > dir.length || dir.readUInt32LE(at) !== 0x02014b50) throw new TorchZipError({ path, message: `${path}: central directory entry ${k} is malformed; the file is corrupt — download it again` })
      const method = dir.readUInt16LE(at + 10)
      const compressed = dir.readUInt32LE(at + 20)
      const size = dir.readUInt32LE(at + 24)
      const nameLength = dir.readUInt16LE(at + 28)
      const extraLength = dir.readUInt16LE(at + 30)
      const commentLength = dir.readUInt16LE(at + 32)
      const headerOffset = dir.readUInt32LE(at + 42)
      const name = dir.toString("utf8", at + 46, at + 46 + nameLength)
      if (method !== 0 || compressed !== size) throw new TorchZipError({ path, message: `${path}: entry ${name} is compressed (method ${method}); torch.save writes stored entries — re-save it with torch.save or convert to safetensors` })
      if (size === 0xffffffff || headerOffset === 0xffffffff) throw new TorchZipError({ path, message: `${path}: entry ${name} needs zip64, which this reader does not support; convert the checkpoint to safetensors` })
      if (headerOffset + 30 + size > fileSize) throw new TorchZipError({ path, message: `${path}: entry ${name} (${size} bytes at ${headerOffset}) runs past the end of the ${fileSize}-byte file; the file is truncated — download it again` })
      entries.set(name, { name, size, headerOffset })
      at += 46 + nameLength + extraLength + commentLength
    }
    const read = (name: string): Uint8Array => {
      const entry = entries.get(name)
      if (entry === undefined) throw new TorchZipError({ path, message: `${path} has no entry ${name}; the archive is incomplete` })
      const local = readAt(fd, path, entry.headerOffset, 30)
      if (local.readUInt32LE(0) !== 0x04034b50) throw new TorchZipError({ path, message: `${path}: the local header of ${name} is corrupt; download the file again` })
      const start = entry.headerOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28)
      return new Uint8Array(readAt(fd, path, start, entry.size))
    }
    return { path, entries, read, close: () => fs.closeSync(fd) }
  } catch (error) {
    fs.closeSync(fd)
    throw error
  }
}
