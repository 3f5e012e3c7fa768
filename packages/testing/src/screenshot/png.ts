/**
 * A minimal PNG decoder (8-bit greyscale, RGB and RGBA, non-interlaced: what
 * Chromium writes for screenshots) with node:zlib, and pixel statistics to tell
 * a rendered page from a blank one.
 */
import { inflateSync } from "node:zlib"

/** Decoded pixels, row-major, `channels` bytes per pixel. */
export interface DecodedPng {
  readonly width: number
  readonly height: number
  /** Channels per pixel: 1 (grey), 3 (RGB) or 4 (RGBA). */
  readonly channels: number
  readonly pixels: Uint8Array
}

const signature = [137, 80, 78, 71, 13, 10, 26, 10]
const channelsByColorType: Record<number, number> = { 0: 1, 2: 3, 6: 4 }

const paeth = (left: number, up: number, upLeft: number) => {
  const estimate = left + up - upLeft
  const toLeft = Math.abs(estimate - left)
  const toUp = Math.abs(estimate - up)
  const toUpLeft = Math.abs(estimate - upLeft)
  return toLeft <= toUp && toLeft <= toUpLeft ? left : toUp <= toUpLeft ? up : upLeft
}

/** Decodes a PNG file's bytes; throws on anything this decoder does not handle. */
export const decodePng = (bytes: Uint8Array): DecodedPng => {
  if (!signature.every((value, index) => bytes[index] === value)) throw new Error("not a PNG file")
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const data: Array<Uint8Array> = []
  while (offset < bytes.length) {
    const length = view.getUint32(offset)
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8))
    const body = bytes.subarray(offset + 8, offset + 8 + length)
    if (type === "IHDR") {
      width = view.getUint32(offset + 8)
      height = view.getUint32(offset + 12)
      const bitDepth = body[8]!
      channels = channelsByColorType[body[9]!] ?? 0
      if (bitDepth !== 8 || channels === 0 || body[12] !== 0) throw new Error("unsupported PNG: need 8-bit grey/RGB/RGBA, no interlace")
    } else if (type === "IDAT") {
      data.push(body)
    } else if (type === "IEND") {
      break
    }
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * channels
  const pixels = new Uint8Array(height * stride)
  for (let row = 0; row < height; row++) {
    const filter = raw[row * (stride + 1)]!
    const source = raw.subarray(row * (stride + 1) + 1, (row + 1) * (stride + 1))
    for (let column = 0; column < stride; column++) {
      const left = column >= channels ? pixels[row * stride + column - channels]! : 0
      const up = row > 0 ? pixels[(row - 1) * stride + column]! : 0
      const upLeft = row > 0 && column >= channels ? pixels[(row - 1) * stride + column - channels]! : 0
      const value = source[column]!
      const predicted = filter === 0 ? 0 : filter === 1 ? left : filter === 2 ? up : filter === 3 ? (left + up) >> 1 : paeth(left, up, upLeft)
      pixels[row * stride + column] = (value + predicted) & 0xff
    }
  }
  return { width, height, channels, pixels }
}

/** Luminance statistics of a decoded image. */
export interface PixelStats {
  readonly mean: number
  readonly variance: number
  /** Share of pixels darker than 200 (text, bars, borders on a white page). */
  readonly inkShare: number
  /** Share of pixels whose colour is clearly not grey (chart bars). */
  readonly colourShare: number
}

/** Luminance mean/variance and ink/colour shares of an image. */
export const pixelStats = (image: DecodedPng): PixelStats => {
  let sum = 0
  let squares = 0
  let ink = 0
  let colour = 0
  const count = image.width * image.height
  for (let pixel = 0; pixel < count; pixel++) {
    const base = pixel * image.channels
    const red = image.pixels[base]!
    const green = image.channels >= 3 ? image.pixels[base + 1]! : red
    const blue = image.channels >= 3 ? image.pixels[base + 2]! : red
    const luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    sum += luminance
    squares += luminance * luminance
    if (luminance < 200) ink++
    if (Math.max(red, green, blue) - Math.min(red, green, blue) > 60) colour++
  }
  const mean = sum / count
  return { mean, variance: squares / count - mean * mean, inkShare: ink / count, colourShare: colour / count }
}
