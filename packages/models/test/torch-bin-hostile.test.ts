/**
 * The safe `.bin` reader on crafted and damaged checkpoints: nothing in a
 * pickle runs, and every failure is a typed error naming the problem.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { loadGptNeoX, openTorchBin, TorchTensorError, TorchZipError, UnsafePickleError } from "../src/index.ts"
import { op, stateDictPickle, storedZip, writeTorchBin } from "@refine-af/testing"

const dir = mkdtempSync(nodePath.join(tmpdir(), "hostile-bin-"))
const file = (name: string) => nodePath.join(dir, name)
const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (error) {
    return error
  }
  throw new Error("expected an error")
}

describe("safe .bin reader", () => {
  it("reads a crafted well-formed state dict, strided view included", () => {
    writeTorchBin(file("ok.bin"), stateDictPickle({ name: "w", storageNumel: 6, offset: 1, shape: [2, 2], stride: [1, 2] }), Float32Array.from([0, 1, 2, 3, 4, 5]))
    const bin = openTorchBin(file("ok.bin"))
    expect(bin.names).toEqual(["w"])
    // element [i][j] = storage[1 + i + 2j]
    expect([...bin.readFloat32("w")]).toEqual([1, 3, 2, 4])
    bin.close()
  })

  it("refuses os.system through __reduce__ without running it", () => {
    const marker = file("pwned")
    const pickle = Buffer.concat([op.proto, op.global("os", "system"), op.mark, op.str(`touch ${marker}`), op.tuple, op.reduce, op.stop])
    writeTorchBin(file("os-system.bin"), pickle)
    const error = thrown(() => openTorchBin(file("os-system.bin")))
    expect(error).toBeInstanceOf(UnsafePickleError)
    expect((error as UnsafePickleError).message).toContain("global os.system")
    expect(() => readFileSync(marker)).toThrow()
  })

  it("refuses any other global and non-state-dict opcodes", () => {
    for (const [module, name] of [["builtins", "eval"], ["subprocess", "Popen"], ["torch", "load"], ["__builtin__", "getattr"]] as const) {
      writeTorchBin(file("g.bin"), Buffer.concat([op.proto, op.global(module, name), op.emptyTuple, op.reduce, op.stop]))
      expect((thrown(() => openTorchBin(file("g.bin"))) as UnsafePickleError).message).toContain(`${module}.${name}`)
    }
    writeTorchBin(file("inst.bin"), Buffer.concat([op.proto, Buffer.from("i os\nsystem\n"), op.stop]))
    expect((thrown(() => openTorchBin(file("inst.bin"))) as UnsafePickleError).message).toContain("opcode INST")
    writeTorchBin(file("stack-global.bin"), Buffer.concat([op.proto, op.str("os"), op.str("system"), Buffer.from([0x93]), op.stop]))
    expect((thrown(() => openTorchBin(file("stack-global.bin"))) as UnsafePickleError).message).toContain("STACK_GLOBAL")
  })

  it("refuses huge shapes before allocating anything", () => {
    writeTorchBin(file("huge.bin"), stateDictPickle({ name: "w", storageNumel: 4, offset: 0, shape: [100000, 100000, 100000], stride: [10000000000 % 2147483647, 100000, 1] }), new Float32Array(4))
    const error = thrown(() => openTorchBin(file("huge.bin")))
    expect(error).toBeInstanceOf(TorchTensorError)
    expect((error as TorchTensorError).message).toMatch(/more than the \d+ a tensor may have/)
  })

  it("refuses wrong storage sizes and views outside their storage", () => {
    writeTorchBin(file("size.bin"), stateDictPickle({ name: "w", storageNumel: 8, offset: 0, shape: [8], stride: [1] }), new Float32Array(4))
    expect((thrown(() => openTorchBin(file("size.bin"))) as TorchTensorError).message).toContain("holds 16 bytes but the pickle says 8 FloatStorage elements")
    writeTorchBin(file("view.bin"), stateDictPickle({ name: "w", storageNumel: 4, offset: 2, shape: [4], stride: [1] }), new Float32Array(4))
    expect((thrown(() => openTorchBin(file("view.bin"))) as TorchTensorError).message).toContain("reaches element 5 of a 4-element storage")
  })

  it("refuses truncated and non-zip files", () => {
    const real = nodePath.resolve(import.meta.dirname, "../../../tools/golden/gpt-neox/tiny-gpt-neox-rm/pytorch_model.bin")
    const bytes = readFileSync(real)
    writeFileSync(file("truncated.bin"), bytes.subarray(0, Math.floor(bytes.length / 2)))
    expect(thrown(() => openTorchBin(file("truncated.bin")))).toBeInstanceOf(TorchZipError)
    writeFileSync(file("legacy.bin"), Buffer.from([0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]))
    expect((thrown(() => openTorchBin(file("legacy.bin"))) as TorchZipError).message).toContain("not a zip archive")
    writeFileSync(file("no-pickle.bin"), storedZip([["archive/version", Buffer.from("3\n")]]))
    expect((thrown(() => openTorchBin(file("no-pickle.bin"))) as TorchZipError).message).toContain("data.pkl")
  })

  it("a scorer folder missing files or holding a hostile .bin fails with a typed error, not a crash", async () => {
    const empty = mkdtempSync(nodePath.join(tmpdir(), "scorer-folder-"))
    const noConfig = await Effect.runPromiseExit(Effect.scoped(loadGptNeoX(empty)))
    expect(Exit.isFailure(noConfig) && String(noConfig.cause)).toContain("config.json")
    copyFileSync(nodePath.resolve(import.meta.dirname, "../../../tools/golden/gpt-neox/tiny-gpt-neox-rm/config.json"), nodePath.join(empty, "config.json"))
    const noWeights = await Effect.runPromiseExit(Effect.scoped(loadGptNeoX(empty)))
    expect(Exit.isFailure(noWeights) && String(noWeights.cause)).toContain("neither model.safetensors nor pytorch_model.bin")
    copyFileSync(file("os-system.bin"), nodePath.join(empty, "pytorch_model.bin"))
    const hostile = await Effect.runPromiseExit(Effect.scoped(loadGptNeoX(empty)))
    expect(Exit.isFailure(hostile) && String(hostile.cause)).toContain("global os.system")
  })
})
