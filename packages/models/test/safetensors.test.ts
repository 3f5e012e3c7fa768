import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import {
  bfloat16BitsToFloat,
  encodeHeader,
  floatToBfloat16Bits,
  floatToHalfBits,
  halfBitsToFloat,
  openSafetensors,
  openSharded,
  toHalfPrecision,
  writeSafetensors
} from "../src/index.ts"

const dir = mkdtempSync(nodePath.join(tmpdir(), "safetensors-test-"))
const file = (name: string) => nodePath.join(dir, name)
const run = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.runPromise(Effect.scoped(effect) as Effect.Effect<A, E>)
const failure = <A, E>(effect: Effect.Effect<A, E, any>) => run(Effect.flip(effect))

/** Assembles a file from a raw header string and data bytes, bypassing the writer's checks. */
const craft = (name: string, headerJson: string, data: Uint8Array, declaredLength?: bigint) => {
  const header = new TextEncoder().encode(headerJson)
  const prefix = Buffer.alloc(8)
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(header.byteLength))
  writeFileSync(file(name), Buffer.concat([prefix, header, data]))
  return file(name)
}

describe("half-precision conversions", () => {
  it("decodes IEEE half bit patterns from the standard's table", () => {
    expect(halfBitsToFloat(0x3c00)).toBe(1)
    expect(halfBitsToFloat(0xc000)).toBe(-2)
    expect(halfBitsToFloat(0x7bff)).toBe(65504)
    expect(halfBitsToFloat(0x0001)).toBe(2 ** -24)
    expect(halfBitsToFloat(0x3555)).toBeCloseTo(0.333251953125, 12)
    expect(halfBitsToFloat(0x7c00)).toBe(Infinity)
    expect(halfBitsToFloat(0xfc00)).toBe(-Infinity)
    expect(halfBitsToFloat(0x7e00)).toBeNaN()
  })
  it("decodes bfloat16 as the upper half of float32", () => {
    expect(bfloat16BitsToFloat(0x3f80)).toBe(1)
    expect(bfloat16BitsToFloat(0xc040)).toBe(-3)
    expect(bfloat16BitsToFloat(0x4049)).toBe(3.140625)
  })
  it("encodes with round-to-nearest-even and inverts decoding on every half bit pattern", () => {
    const mismatches: Array<number> = []
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfBitsToFloat(bits)
      if (!Number.isNaN(value) && floatToHalfBits(value) !== bits) mismatches.push(bits)
    }
    expect(mismatches).toEqual([])
    // 1 + 2^-11 is exactly halfway between 1 and the next half; ties go to even (1).
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00)
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02)
    expect(floatToHalfBits(1e6)).toBe(0x7c00)
    expect(floatToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80)
    expect(floatToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82)
  })
  it("converts whole arrays as the element-wise encoders do (bfloat16 through the float32 bits)", () => {
    // Ties, near-ties, subnormals, the largest finite values, infinities, NaN, signed zeros and a spread of magnitudes.
    const special = [0, -0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -11, 2 ** -130, -(2 ** -149), 3.4028234663852886e38, -3.4028234663852886e38, 65504, 65520, Infinity, -Infinity, NaN]
    let state = 12345
    const spread = Array.from({ length: 20_000 }, () => {
      state = (state * 1103515245 + 12345) % 2147483648
      return (state / 2147483648 - 0.5) * 2 ** ((state % 80) - 40)
    })
    const values = Float32Array.from([...special, ...spread])
    expect([...toHalfPrecision(values, "BF16")]).toEqual([...values].map(floatToBfloat16Bits))
    expect([...toHalfPrecision(values, "F16")]).toEqual([...values].map(floatToHalfBits))
    // A view into a larger buffer converts only its own elements.
    const view = new Float32Array(values.buffer, 4 * 3, 5)
    expect([...toHalfPrecision(view, "BF16")]).toEqual([...view].map(floatToBfloat16Bits))
  })
})

describe("safetensors round trip", () => {
  it("writes and reads F32, F16, BF16 and I64 tensors with metadata", async () => {
    const f32 = new Float32Array([1.5, -2.25, 3, 0.1, 7, 8])
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff])
    const bf16 = new Uint16Array([0x3f80, 0xc040])
    const i64 = new BigInt64Array([1n, -5n])
    const path = file("round.safetensors")
    await run(writeSafetensors(path, [
      { name: "a", dtype: "F32", shape: [2, 3], data: f32 },
      { name: "h", dtype: "F16", shape: [3], data: f16 },
      { name: "b", dtype: "BF16", shape: [1, 2], data: bf16 },
      { name: "i", dtype: "I64", shape: [2], data: i64 }
    ], { format: "pt" }))
    const result = await run(Effect.gen(function* () {
      const st = yield* openSafetensors(path)
      return {
        metadata: st.header.metadata,
        shapes: [...st.header.tensors.values()].map((e) => [e.name, e.dtype, e.shape]),
        a: yield* st.readFloat32("a"),
        h: yield* st.readFloat32("h"),
        hRaw: yield* st.readBytes("h"),
        b: yield* st.readFloat32("b"),
        alignedStart: st.header.dataStart % 8,
        intAsFloat: yield* Effect.flip(st.readFloat32("i")),
        missing: yield* Effect.flip(st.readFloat32("nope"))
      }
    }))
    expect(result.metadata).toEqual({ format: "pt" })
    expect(result.shapes).toEqual([["a", "F32", [2, 3]], ["h", "F16", [3]], ["b", "BF16", [1, 2]], ["i", "I64", [2]]])
    expect([...result.a]).toEqual([...f32])
    expect([...result.h]).toEqual([1, -2, 65504])
    expect([...new Uint16Array(result.hRaw.buffer)]).toEqual([...f16])
    expect([...result.b]).toEqual([1, -3])
    expect(result.alignedStart).toBe(0)
    expect(result.intAsFloat._tag).toBe("UnsupportedDtypeError")
    expect(result.missing._tag).toBe("TensorNotFoundError")
  })

  it("refuses to write data whose size disagrees with the shape", async () => {
    const error = await failure(writeSafetensors(file("bad-write.safetensors"), [{ name: "a", dtype: "F32", shape: [3], data: new Float32Array(2) }]))
    expect(error._tag).toBe("SafetensorsFormatError")
  })

  it("produced tensors are drawn one at a time, in file order, and give the bytes of the same tensors given whole", async () => {
    const values = { a: new Float32Array([1, -2, 3.5]), b: new Float32Array([0.25, 8]) }
    const drawn: Array<string> = []
    const lazy = (["a", "b"] as const).map((name) => ({ name, dtype: "F32" as const, shape: [values[name].length], produce: () => (drawn.push(name), values[name]) }))
    await run(writeSafetensors(file("lazy.safetensors"), lazy))
    await run(writeSafetensors(file("eager.safetensors"), (["a", "b"] as const).map((name) => ({ name, dtype: "F32" as const, shape: [values[name].length], data: values[name] }))))
    expect(drawn).toEqual(["a", "b"])
    expect(readFileSync(file("lazy.safetensors")).equals(readFileSync(file("eager.safetensors")))).toBe(true)
    const wrong = await failure(writeSafetensors(file("lazy-bad.safetensors"), [{ name: "a", dtype: "F32", shape: [3], produce: () => new Float32Array(2) }]))
    expect(wrong._tag).toBe("SafetensorsIoError")
    expect(wrong.message).toMatch(/"a" produced 8 bytes but shape \[3\] of F32 needs 12/)
  })
})

describe("hostile or corrupt safetensors files", () => {
  const entry = (offsets: [number, number], dtype = "F32", shape = [2]) => ({ dtype, shape, data_offsets: offsets })
  const problemOf = async (path: string) => {
    const error = await failure(openSafetensors(path))
    return error._tag === "SafetensorsFormatError" ? error.problem : error._tag
  }

  it("a file shorter than the length prefix is Truncated", async () => {
    writeFileSync(file("tiny.safetensors"), Buffer.from([1, 2, 3]))
    expect(await problemOf(file("tiny.safetensors"))).toBe("Truncated")
  })
  it("a header length past the end of the file is Truncated", async () => {
    expect(await problemOf(craft("short-header.safetensors", "{}", new Uint8Array(0), 4096n))).toBe("Truncated")
  })
  it("a huge declared header length is refused before allocating", async () => {
    expect(await problemOf(craft("huge.safetensors", "{}", new Uint8Array(0), 2n ** 63n))).toBe("HeaderTooLarge")
  })
  it("a header that is not JSON, or not an object, is HeaderNotJson", async () => {
    expect(await problemOf(craft("notjson.safetensors", "{\"a\": [", new Uint8Array(0)))).toBe("HeaderNotJson")
    expect(await problemOf(craft("array.safetensors", "[1,2]", new Uint8Array(0)))).toBe("HeaderNotJson")
  })
  it("byte ranges beyond the data section are OutOfBounds (truncated data)", async () => {
    expect(await problemOf(craft("oob.safetensors", JSON.stringify({ w: entry([0, 8]) }), new Uint8Array(4)))).toBe("OutOfBounds")
  })
  it("a byte length that disagrees with shape × dtype size is BadEntry", async () => {
    expect(await problemOf(craft("size.safetensors", JSON.stringify({ w: entry([0, 6]) }), new Uint8Array(8)))).toBe("BadEntry")
    expect(await problemOf(craft("bf16size.safetensors", JSON.stringify({ w: entry([0, 8], "BF16", [2]) }), new Uint8Array(8)))).toBe("BadEntry")
  })
  it("unknown dtypes, negative or fractional shapes and reversed offsets are BadEntry", async () => {
    expect(await problemOf(craft("dtype.safetensors", JSON.stringify({ w: entry([0, 8], "F8_E9") }), new Uint8Array(8)))).toBe("BadEntry")
    expect(await problemOf(craft("shape.safetensors", JSON.stringify({ w: entry([0, 8], "F32", [-2]) }), new Uint8Array(8)))).toBe("BadEntry")
    expect(await problemOf(craft("frac.safetensors", JSON.stringify({ w: entry([0, 8], "F32", [1.5]) }), new Uint8Array(8)))).toBe("BadEntry")
    expect(await problemOf(craft("reversed.safetensors", JSON.stringify({ w: entry([8, 0]) }), new Uint8Array(8)))).toBe("BadEntry")
    expect(await problemOf(craft("meta.safetensors", JSON.stringify({ __metadata__: { a: 1 } }), new Uint8Array(0)))).toBe("BadEntry")
  })
  it("overlapping tensors are refused", async () => {
    const header = JSON.stringify({ a: entry([0, 8]), b: entry([4, 12]) })
    expect(await problemOf(craft("overlap.safetensors", header, new Uint8Array(12)))).toBe("Overlap")
  })
  it("a missing file is an I/O error naming the path", async () => {
    const error = await failure(openSafetensors(file("does-not-exist.safetensors")))
    expect(error._tag).toBe("SafetensorsIoError")
    expect(error.message).toContain("does-not-exist.safetensors")
  })
  it("the writer's own header encoder produces a file the validator accepts", async () => {
    const header = encodeHeader([{ name: "x", dtype: "F32", shape: [2], data: new Float32Array(2) }])
    expect(header.byteLength % 8).toBe(0)
    expect(await run(Effect.map(openSafetensors(craft("encoded.safetensors", new TextDecoder().decode(header), new Uint8Array(8))), (f) => f.header.tensors.size))).toBe(1)
  })
})

describe("sharded checkpoints", () => {
  it("reads tensors across shards through the index", async () => {
    const shardDir = mkdtempSync(nodePath.join(tmpdir(), "sharded-"))
    await run(writeSafetensors(nodePath.join(shardDir, "model-00001-of-00002.safetensors"), [{ name: "a", dtype: "F32", shape: [1], data: new Float32Array([4]) }]))
    await run(writeSafetensors(nodePath.join(shardDir, "model-00002-of-00002.safetensors"), [{ name: "b", dtype: "F32", shape: [1], data: new Float32Array([5]) }]))
    const index = nodePath.join(shardDir, "model.safetensors.index.json")
    writeFileSync(index, JSON.stringify({ metadata: {}, weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" } }))
    const values = await run(Effect.gen(function* () {
      const source = yield* openSharded(index)
      return [...(yield* source.readFloat32("a")), ...(yield* source.readFloat32("b"))]
    }))
    expect(values).toEqual([4, 5])

    writeFileSync(index, JSON.stringify({ weight_map: { a: "model-00002-of-00002.safetensors" } }))
    expect((await failure(openSharded(index)))._tag).toBe("SafetensorsFormatError")
  })
  it("refuses shard names that leave the checkpoint folder", async () => {
    const index = file("evil.index.json")
    writeFileSync(index, JSON.stringify({ weight_map: { a: "../../etc/passwd.safetensors" } }))
    const error = await failure(openSharded(index))
    expect(error._tag === "SafetensorsFormatError" && error.problem).toBe("BadIndex")
    writeFileSync(index, "not json")
    expect((await failure(openSharded(index)))._tag).toBe("SafetensorsFormatError")
  })
})
