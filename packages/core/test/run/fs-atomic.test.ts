/** `writeFileAtomic` replaces a file whole, and a write that fails leaves the target and no temp file behind. */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { fileVersion, removeStaleTemps, sameFileVersion, writeFileAtomic } from "../../src/index.ts"

const folder = () => fs.mkdtempSync(path.join(os.tmpdir(), "fs-atomic-"))

describe("writeFileAtomic", () => {
  it("replaces the file's content", () => {
    const file = path.join(folder(), "a.json")
    writeFileAtomic(file, "old")
    writeFileAtomic(file, "new", { sync: false })
    expect(fs.readFileSync(file, "utf8")).toBe("new")
    expect(fs.readdirSync(path.dirname(file))).toEqual(["a.json"])
  })

  it("a rename that fails (the target is a folder) throws and leaves no temp file", () => {
    const dir = folder()
    const target = path.join(dir, "taken")
    fs.mkdirSync(path.join(target, "inside"), { recursive: true })
    expect(() => writeFileAtomic(target, "x")).toThrow()
    expect(fs.readdirSync(dir)).toEqual(["taken"])
  })
})

describe("removeStaleTemps", () => {
  it("removes the temporary files of interrupted atomic writes anywhere below, and nothing else", () => {
    const dir = folder()
    const names = ["records.jsonl", "curves.jsonl.8044.tmp", "x.tmp", "adapter/adapter_model.safetensors", "adapter/adapter_model.safetensors.tmp-31337", "tmp.txt", "data.tmpl", "notes.tmp-old", ".tmp-folder/records.jsonl"]
    for (const name of names) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
      fs.writeFileSync(path.join(dir, name), "x")
    }
    expect(removeStaleTemps(dir)).toBe(3)
    expect(names.filter((name) => fs.existsSync(path.join(dir, name)))).toEqual(["records.jsonl", "adapter/adapter_model.safetensors", "tmp.txt", "data.tmpl", "notes.tmp-old", ".tmp-folder/records.jsonl"])
    expect(removeStaleTemps(path.join(dir, "absent"))).toBe(0)
  })
})

describe("fileVersion", () => {
  it("changes with a write and is missing for a missing file", () => {
    const file = path.join(folder(), "f")
    fs.writeFileSync(file, "one")
    const before = fileVersion(file)
    expect(sameFileVersion(before, fileVersion(file))).toBe(true)
    fs.writeFileSync(file, "three")
    expect(sameFileVersion(before, fileVersion(file))).toBe(false)
    expect(fileVersion(path.join(path.dirname(file), "absent"))).toBeUndefined()
    expect(sameFileVersion(undefined, undefined)).toBe(false)
  })
})
