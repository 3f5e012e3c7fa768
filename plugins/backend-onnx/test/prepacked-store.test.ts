/**
 * The pre-packed store (runtime/prepacked-store.ts): a baked int4 weight
 * mapped from a file is pre-packed once by onnxruntime into
 * `prepacked-<signature>.bin` next to it, and every later session maps that
 * form instead of pre-packing a copy in its own memory. Checked: the same
 * outputs as the weight pre-packed in memory (alone, grouped, in a worker);
 * the store is made once and reused; a session's anonymous memory does not
 * grow by the pre-packed form; sessions really read the blob (zeroed in place,
 * they compute something else); a blob whose key does not match what this
 * onnxruntime computes (another CPU's) is not used; an index entry beyond the
 * file's end is dropped and made again; a replaced weights file is a new
 * source; a lock held by a live process is respected, a dead one's taken
 * (at once when it records a dead process of this host, else by age); a
 * store that cannot be written is one warning; an entry damaged in place is
 * found by its checksum, named once and made again (an unchanged store is not
 * read to check it, a touched one once); an index of the older format (no
 * checksums) is a store made again, and so is one of format 2 (no int4
 * layout; prepacked-reads.test.ts).
 */
import { add, Graph, hostTensor, matmul, quantiseWeight, toFloat64, transposeLast2, type BackendService, type BlockQuantisedWeight } from "@refine-af/tensor"
import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { hostname, tmpdir } from "node:os"
import * as nodePath from "node:path"
import * as ort from "onnxruntime-node"
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest"
import { compileProgram, makeOnnxBackend } from "../src/index.ts"
import { mergeGroup } from "../src/compile/group.ts"
import { encodeModel } from "../src/onnx/model.ts"
import { lockHolderDead, storeSignature, withPrepackedStore } from "../src/runtime/prepacked-store.ts"
import * as checksums from "../src/runtime/prepacked-checksum.ts"
import { bytesOf, decodeMessage, stringOf } from "./support/proto-decode.ts"
import { cpuSettings, withBackend } from "./support/run.ts"

// Counts the reads of store entries to check them against their checksums (the expensive part of a load).
vi.mock("../src/runtime/prepacked-checksum.ts", async (original) => {
  const actual = await original<typeof import("../src/runtime/prepacked-checksum.ts")>()
  return { ...actual, checksumOfRanges: vi.fn(actual.checksumOfRanges) }
})
const entryReads = () => vi.mocked(checksums.checksumOfRanges).mock.calls.length
beforeEach(() => {
  vi.mocked(checksums.checksumOfRanges).mockClear()
})

const program = (rows: number, n: number, k: number) => {
  const g = new Graph()
  const x = g.input("x", "float32", [rows, k])
  const w = g.parameter("w", "float32", [n, k], { trainable: false })
  const b = g.parameter("b", "float32", [n], { trainable: false })
  g.output("y", add(matmul(x, transposeLast2(w)), b))
  return g.build()
}

const folders: Array<string> = []
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})

/** `count` weights [n, k] quantised to int4 and written one after another to `weights.bin` in a fresh folder, with their stored copies. */
const storedWeights = (n: number, k: number, count: number, phase = 0, into?: string, scheme: "int4" | "int8" = "int4") => {
  const folder = into ?? mkdtempSync(nodePath.join(tmpdir(), "refine-af-prepacked-"))
  if (into === undefined) folders.push(folder)
  const parts: Array<Uint8Array> = [new Uint8Array(24)]
  let at = 24
  const weights = Array.from({ length: count }, (_, w) => {
    const weight = quantiseWeight(new Float32Array(Array.from({ length: n * k }, (_, i) => Math.sin(i * 0.37 + w + phase) * (1 + (i % 5)))), [n, k], scheme, 32) as BlockQuantisedWeight
    const scales = new Uint8Array(weight.scales.buffer, weight.scales.byteOffset, weight.scales.byteLength)
    const stored = { folder, file: "weights.bin", codesOffset: at, scalesOffset: at + weight.codes.byteLength }
    parts.push(weight.codes, scales)
    at += weight.codes.byteLength + scales.byteLength
    return { ...weight, stored } as BlockQuantisedWeight
  })
  // Written elsewhere and renamed over the file, as the quantised-weight cache is.
  writeFileSync(nodePath.join(folder, "weights.bin.tmp"), Buffer.concat(parts))
  renameSync(nodePath.join(folder, "weights.bin.tmp"), nodePath.join(folder, "weights.bin"))
  return { folder, weights }
}
const storedWeight = (n: number, k: number, scheme: "int4" | "int8" = "int4") => {
  const { folder, weights } = storedWeights(n, k, 1, 0, undefined, scheme)
  return { folder, weight: weights[0]! }
}

/** y = Σ x·W_iᵀ over `count` weights [n, k] ("w0", "w1", ...). */
const sumProgram = (n: number, k: number, count: number) => {
  const g = new Graph()
  const x = g.input("x", "float32", [1, k])
  const terms = Array.from({ length: count }, (_, i) => matmul(x, transposeLast2(g.parameter(`w${i}`, "float32", [n, k], { trainable: false }))))
  g.output("y", terms.reduce((a, b) => add(a, b)))
  return g.build()
}

const bias = (n: number) => hostTensor("float32", [n], Array.from({ length: n }, (_, i) => Math.cos(i)))
const xOf = (rows: number, k: number) => hostTensor("float32", [rows, k], Array.from({ length: rows * k }, (_, i) => Math.cos(i * 0.11 + rows)))

const outputs = (backend: BackendService, weight: BlockQuantisedWeight, n: number, k: number, group?: string) =>
  Effect.gen(function* () {
    const all: Array<Array<number>> = []
    for (const rows of [1, 8]) {
      const exe = yield* backend.compile(program(rows, n, k), { constants: { b: bias(n) }, quantised: { w: weight }, ...(group !== undefined ? { group } : {}) })
      const out = yield* backend.run(exe, { x: xOf(rows, k) })
      all.push([...toFloat64(yield* backend.download(out.y!))])
    }
    return all
  })

const storeFiles = (folder: string) => readdirSync(folder).filter((f) => f.startsWith("prepacked-")).sort()
/** The files of a made store: the data, its index, and the stamp vouching for the entries written (prepacked-verify.ts). */
const madeStore = () => ["bin", "json", "verified"].map((ext) => `prepacked-${storeSignature()}.${ext}`)
const binOf = (folder: string) => nodePath.join(folder, `prepacked-${storeSignature()}.bin`)
const indexOf = (folder: string) => nodePath.join(folder, `prepacked-${storeSignature()}.json`)

describe("pre-packed store", () => {
  it.each(["int4", "int8"] as const)("a mapped %s weight computes the same from the store as pre-packed in memory (alone, grouped, in a worker); the store is made once", async (scheme) => {
    const { folder, weight } = storedWeight(96, 128, scheme)
    const inMemory = await withBackend((b) => outputs(b, weight, 96, 128), { prepackedStore: false })
    expect(storeFiles(folder)).toEqual([])
    const fromStore = await withBackend((b) => outputs(b, weight, 96, 128))
    expect(fromStore).toEqual(inMemory)
    expect(storeFiles(folder)).toEqual(madeStore())
    const index = JSON.parse(readFileSync(indexOf(folder), "utf8")) as { entries: Record<string, { offset: number; length: number; prepacked: Array<[string, Array<[number, number]>]> }> }
    const entries = Object.values(index.entries)
    expect(entries).toHaveLength(1)
    expect(entries[0]!.length).toBe(weight.codes.byteLength)
    // The store's copy of the codes is the codes.
    const bin = readFileSync(binOf(folder))
    expect([...bin.subarray(entries[0]!.offset, entries[0]!.offset + entries[0]!.length)]).toEqual([...weight.codes])
    expect(entries[0]!.prepacked[0]![0]).toMatch(/^MatMulNBits\+\d+$/)
    const size = statSync(binOf(folder)).size
    // Later sessions (grouped, in a worker) read the store; nothing is added.
    expect(await withBackend((b) => outputs(b, weight, 96, 128, "family"))).toEqual(inMemory)
    expect(await withBackend((b) => outputs(b, weight, 96, 128), { worker: true })).toEqual(inMemory)
    expect(statSync(binOf(folder)).size).toBe(size)
    expect(readdirSync(folder).filter((f) => f.startsWith(".prepacking-") || f.endsWith(".lock") || f.endsWith(".tmp"))).toEqual([])
  })

  it("the session maps the pre-packed forms: its anonymous memory does not grow by them", async () => {
    // Four 2048 × 4096 int4 weights: 4 MiB of codes each, ~6 MiB pre-packed. onnxruntime still pre-packs each weight at
    // session creation (to compare its hash with the stored blob's key) and frees that copy, so one weight's worth
    // can stay in malloc's arena; the four in memory stay in the session.
    const n = 2048
    const k = 4096
    const count = 4
    const { folder, weights } = storedWeights(n, k, count)
    const quantised = Object.fromEntries(weights.map((w, i) => [`w${i}`, w]))
    const model = compileProgram(sumProgram(n, k, count), {}, { externalThreshold: 1 << 20, float16Weights: false }, quantised).onnx
    const [stored] = (await withPrepackedStore([model], folder, 1)).models
    for (let i = 0; i < count; i++) {
      const codes = stored!.graph.initializers.find((t) => t.name === `param:w${i}:codes`)!
      expect(codes.external?.location).toBe(`prepacked-${storeSignature()}.bin`)
      expect(codes.external?.entries?.[0]?.[0]).toBe("prepacked_0")
    }
    // Outputs here; memory in a fresh process per session (this one's malloc arena holds what earlier tests freed).
    const yOf = async (m: typeof model) => {
      const session = await ort.InferenceSession.create(encodeModel(m), { intraOpNumThreads: 1, enableCpuMemArena: false, extra: { session: { model_external_initializers_file_folder_path: folder } } })
      const y = (await session.run({ "in:x": new ort.Tensor("float32", xOf(1, k).data as Float32Array, [1, k]) }))["out:y"]!.data as Float32Array
      await session.release()
      return [...y]
    }
    expect(await yOf(stored!)).toEqual(await yOf(model))
    const grown = (m: typeof model, name: string) => {
      const file = nodePath.join(folder, name)
      writeFileSync(file, encodeModel(m))
      // A fixed mmap threshold: every block of 128 KiB or more is its own mapping, returned when freed, so the growth is
      // what the session holds, not what malloc kept of onnxruntime's transient pre-packing (it still pre-packs each
      // weight at creation to compare its hash with the stored blob's key).
      const out = execFileSync(process.execPath, [nodePath.join(import.meta.dirname, "support", "session-memory.mjs"), file, folder], { encoding: "utf8", env: { ...process.env, MALLOC_MMAP_THRESHOLD_: "131072" } })
      return (JSON.parse(out.trim().split("\n").pop()!) as { grown: number }).grown
    }
    const inMemory = grown(model, "in-memory.onnx")
    const mapped = grown(stored!, "from-store.onnx")
    const codes = count * weights[0]!.codes.byteLength
    console.log(`session anonymous memory: pre-packed in memory +${(inMemory / 2 ** 20).toFixed(1)} MiB, from the store +${(mapped / 2 ** 20).toFixed(1)} MiB (codes ${(codes / 2 ** 20).toFixed(1)} MiB)`)
    // In memory the session holds every pre-packed form (~1.5× the codes); from the store, none of them (what is left
    // is the session itself: measured +7.8 of +31.8 MiB).
    expect(inMemory - mapped).toBeGreaterThan(codes)
    expect(mapped).toBeLessThan(inMemory / 3)
  }, 60_000)

  it("sessions read the blob from the store; one whose key this onnxruntime does not compute (another CPU's) is not used; an entry beyond the file's end is made again", async () => {
    const { folder, weight } = storedWeight(64, 96)
    const expected = await withBackend((b) => outputs(b, weight, 64, 96), { prepackedStore: false })
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).toEqual(expected)
    const index = JSON.parse(readFileSync(indexOf(folder), "utf8")) as { format: number; entries: Record<string, { offset: number; length: number; prepacked: Array<[string, Array<[number, number]>]>; sha256: string }> }
    const [key, entry] = Object.entries(index.entries)[0]!
    // The blob zeroed in place with its checksum updated to match (breaking the store's contract on purpose, past its
    // check): a session that reads it computes something else.
    const [blobOffset, blobLength] = entry.prepacked[0]![1][0]!
    const bin = readFileSync(binOf(folder))
    bin.fill(0, blobOffset, blobOffset + blobLength)
    writeFileSync(binOf(folder), bin)
    const zeroed = { ...entry, sha256: checksums.checksumOfRanges(binOf(folder), checksums.entryRanges(entry)) }
    writeFileSync(indexOf(folder), JSON.stringify({ ...index, entries: { [key]: zeroed } }))
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).not.toEqual(expected)
    expect(await withBackend((b) => outputs(b, weight, 64, 96, "family"))).not.toEqual(expected)
    // The same blob under a key onnxruntime does not compute here: pre-packed in memory instead, outputs as expected.
    writeFileSync(indexOf(folder), JSON.stringify({ ...index, entries: { [key]: { ...zeroed, prepacked: [["MatMulNBits+1", entry.prepacked[0]![1]]] } } }))
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).toEqual(expected)
    // An entry pointing past the end of the store file (a store cut short): dropped, the weight pre-packed again.
    const size = statSync(binOf(folder)).size
    writeFileSync(indexOf(folder), JSON.stringify({ ...index, entries: { [key]: { ...entry, offset: size } } }))
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).toEqual(expected)
    expect(statSync(binOf(folder)).size).toBeGreaterThan(size)
    const again = JSON.parse(readFileSync(indexOf(folder), "utf8")) as typeof index
    expect(again.entries[key]!.offset).toBeGreaterThanOrEqual(size)
    expect(again.entries[key]!.prepacked[0]![0]).toMatch(/^MatMulNBits\+\d+$/)
  })

  it("a weights file replaced by another with the same layout is a new source: the store's copy of the old codes is not used; folders a dead process left are removed", async () => {
    const { folder, weight } = storedWeight(64, 96)
    const before = await withBackend((b) => outputs(b, weight, 64, 96), { prepackedStore: false })
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).toEqual(before)
    const [other] = storedWeights(64, 96, 1, 2, folder).weights
    expect(other!.stored).toEqual(weight.stored)
    mkdirSync(nodePath.join(folder, ".prepacking-left"))
    const expected = await withBackend((b) => outputs(b, other!, 64, 96), { prepackedStore: false })
    expect(expected).not.toEqual(before)
    expect(await withBackend((b) => outputs(b, other!, 64, 96))).toEqual(expected)
    const index = JSON.parse(readFileSync(indexOf(folder), "utf8")) as { entries: Record<string, unknown> }
    expect(Object.keys(index.entries)).toHaveLength(2)
    expect(readdirSync(folder).filter((f) => f.startsWith(".prepacking-"))).toEqual([])
  })

  it("a store locked by a live process is left alone (pre-packed in memory, the same outputs); a lock a dead process left is taken", async () => {
    const { folder, weight } = storedWeight(64, 96)
    const expected = await withBackend((b) => outputs(b, weight, 64, 96), { prepackedStore: false })
    const lock = nodePath.join(folder, `prepacked-${storeSignature()}.lock`)
    writeFileSync(lock, "")
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).toEqual(expected)
    expect(storeFiles(folder)).toEqual([`prepacked-${storeSignature()}.lock`])
    // Untouched for an hour: its process died while making blobs.
    const hourAgo = new Date(Date.now() - 3600_000)
    utimesSync(lock, hourAgo, hourAgo)
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).toEqual(expected)
    expect(storeFiles(folder)).toEqual(madeStore())
  })

  it("a fresh lock whose holder is a dead process of this host (a run killed while making the store) is taken at once; a live holder's, or another host's, is left, and a servedPrepackOnly compile names the holder and the lock file", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!
    expect(lockHolderDead(`${dead} ${hostname()}\n`)).toBe(true)
    expect(lockHolderDead(`${process.ppid} ${hostname()}\n`)).toBe(false)
    expect(lockHolderDead(`${dead} another-host.example\n`)).toBe(false)
    expect(lockHolderDead("")).toBe(false)
    const served = (b: BackendService) =>
      Effect.match(b.compile(program(1, 64, 96), { constants: { b: bias(64) }, quantised: { w: weight }, servedPrepackOnly: true }), { onFailure: (error) => ({ ok: false, message: error.message }), onSuccess: () => ({ ok: true, message: "" }) })
    const { folder, weight } = storedWeight(64, 96)
    const lock = nodePath.join(folder, `prepacked-${storeSignature()}.lock`)
    // Alive (the test runner's parent): left alone, and the refusal names it.
    writeFileSync(lock, `${process.ppid} ${hostname()}\n`)
    const refused = await withBackend(served)
    expect(refused.ok).toBe(false)
    const message = refused.message
    expect(message).toContain(`process ${process.ppid} is making the store`)
    expect(message).toContain(lock)
    expect(message).toContain("delete the lock file")
    expect(storeFiles(folder)).toEqual([`prepacked-${storeSignature()}.lock`])
    // Another host's: its process cannot be checked from here, so only its age counts.
    writeFileSync(lock, `${dead} another-host.example\n`)
    expect((await withBackend(served)).ok).toBe(false)
    expect(readFileSync(lock, "utf8")).toBe(`${dead} another-host.example\n`)
    // Dead, on this host, a second old: taken, the store made and served, the lock gone after.
    writeFileSync(lock, `${dead} ${hostname()}\n`)
    expect((await withBackend(served)).ok).toBe(true)
    expect(storeFiles(folder)).toEqual(madeStore())
    expect(readdirSync(folder).filter((f) => f.endsWith(".left"))).toEqual([])
  })

  it("a store that cannot be written is said once, as a warning naming the folder and the way out; sessions pre-pack in memory, the same outputs", async () => {
    const { folder, weight } = storedWeight(64, 96)
    const expected = await withBackend((b) => outputs(b, weight, 64, 96), { prepackedStore: false })
    // The store file's name taken by a folder: appending to it fails.
    mkdirSync(binOf(folder))
    const warnings: Array<string> = []
    const got = await Effect.runPromise(Effect.scoped(Effect.flatMap(makeOnnxBackend(cpuSettings, undefined, (w) => warnings.push(w)), (b) => outputs(b, weight, 64, 96))))
    expect(got).toEqual(expected)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(folder)
    expect(warnings[0]).toContain("prepacked_store: false")
  })

  it("servedPrepackOnly: where the store cannot serve a weight's pre-packed forms (it cannot be written, or another process is making it), compile fails saying how many bytes, before any session; served, it compiles", async () => {
    const { folder, weight } = storedWeight(64, 96)
    const expected = await withBackend((b) => outputs(b, weight, 64, 96), { prepackedStore: false })
    const compileServedOnly = (b: BackendService, group?: string) =>
      Effect.gen(function* () {
        const exe = yield* b.compile(program(1, 64, 96), { constants: { b: bias(64) }, quantised: { w: weight }, servedPrepackOnly: true, ...(group !== undefined ? { group } : {}) })
        return [...toFloat64(yield* b.download((yield* b.run(exe, { x: xOf(1, 96) })).y!))]
      })
    const failure = (group?: string) => withBackend((b) => Effect.flip(compileServedOnly(b, group)))
    // Another process holds the store's lock: nothing served, alone or as a group member.
    const lock = nodePath.join(folder, `prepacked-${storeSignature()}.lock`)
    writeFileSync(lock, "")
    for (const group of [undefined, "family"]) {
      const error = await failure(group)
      expect(error._tag).toBe("BackendCompileError")
      expect((error as { prepackUnserved?: number }).prepackUnserved).toBe(weight.codes.byteLength + weight.scales.byteLength)
      expect(error.message).toContain("another process is making the store")
      expect(error.message).toContain(folder)
    }
    rmSync(lock)
    // Served from the store it makes: compiles, the in-memory outputs.
    expect(await withBackend((b) => compileServedOnly(b))).toEqual(expected[0])
    // A store that cannot be written (its file's name taken by a folder) serves a new weight nothing: refused, and the
    // store's problem is still said once as a warning.
    const other = storedWeight(64, 96)
    mkdirSync(binOf(other.folder))
    const warnings: Array<string> = []
    const refused = await Effect.runPromise(Effect.scoped(Effect.flatMap(makeOnnxBackend(cpuSettings, undefined, (w) => warnings.push(w)), (b) => Effect.flip(b.compile(program(1, 64, 96), { constants: { b: bias(64) }, quantised: { w: other.weight }, servedPrepackOnly: true })))))
    expect((refused as { prepackUnserved?: number }).prepackUnserved).toBeGreaterThan(0)
    expect(refused.message).toContain("could not be written")
    expect(warnings).toHaveLength(1)
  })

  it("without the disk the store needs nothing is written, and the warning says how much is needed and free", async () => {
    const { folder, weight } = storedWeight(64, 96)
    const model = compileProgram(program(1, 64, 96), { b: bias(64) }, { externalThreshold: 1 << 20, float16Weights: false }, { w: weight }).onnx
    const result = await withPrepackedStore([model], folder, 1, () => 2 ** 20)
    expect(result.models[0]).toBe(model)
    expect(result.problem).toMatch(/needs about [\d.]+ GiB of disk and 0\.0 GiB are free/)
    expect(storeFiles(folder)).toEqual([])
  })

  it("a float32 weight mapped from a file and read as x·Wᵀ (Gemm, transB) is served from the store too: the same outputs", async () => {
    const folder = mkdtempSync(nodePath.join(tmpdir(), "refine-af-prepacked-"))
    folders.push(folder)
    const [n, k] = [96, 128]
    const values = new Float32Array(Array.from({ length: n * k }, (_, i) => Math.sin(i * 0.21)))
    writeFileSync(nodePath.join(folder, "weights.bin"), Buffer.concat([Buffer.alloc(12), Buffer.from(values.buffer)]))
    const w = { ...hostTensor("float32", [n, k], values), stored: { folder, file: "weights.bin", offset: 12 } }
    const run = (settings: { prepackedStore?: boolean }) =>
      withBackend(
        (b) =>
          Effect.gen(function* () {
            const all: Array<Array<number>> = []
            for (const rows of [1, 8]) {
              const exe = yield* b.compile(program(rows, n, k), { constants: { w, b: bias(n) } })
              all.push([...toFloat64(yield* b.download((yield* b.run(exe, { x: xOf(rows, k) })).y!))])
            }
            return all
          }),
        settings
      )
    const expected = await run({ prepackedStore: false })
    expect(await run({})).toEqual(expected)
    const index = JSON.parse(readFileSync(indexOf(folder), "utf8")) as { entries: Record<string, { prepacked: Array<[string, unknown]> }> }
    const keys = Object.keys(index.entries)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatch(/\|Gemm\|transB=1$/)
    expect(Object.values(index.entries)[0]!.prepacked[0]![0]).toMatch(/^Gemm\+\d+$/)
  })

  it("an entry damaged in place (codes copy and blobs) is found, named once and made again: the same outputs as a clean store; an unchanged store is not read again", async () => {
    const { folder, weight } = storedWeight(64, 96)
    const expected = await withBackend((b) => outputs(b, weight, 64, 96), { prepackedStore: false })
    const warned = async () => {
      const warnings: Array<string> = []
      const got = await Effect.runPromise(Effect.scoped(Effect.flatMap(makeOnnxBackend(cpuSettings, undefined, (w) => warnings.push(w)), (b) => outputs(b, weight, 64, 96))))
      return { got, warnings }
    }
    // Made: what the maker wrote is vouched for by the stamp; later loads read nothing of the store to check it.
    expect(await warned()).toEqual({ got: expected, warnings: [] })
    expect(await warned()).toEqual({ got: expected, warnings: [] })
    expect(entryReads()).toBe(0)
    // Touched (a new modification time): every entry read once, then vouched for again.
    utimesSync(binOf(folder), new Date(), new Date())
    expect(await warned()).toEqual({ got: expected, warnings: [] })
    expect(entryReads()).toBe(1)
    expect(await warned()).toEqual({ got: expected, warnings: [] })
    expect(entryReads()).toBe(1)
    // 4 bytes of every 64 of the entry's codes copy and blobs overwritten with float32 0.37, in place.
    const index = JSON.parse(readFileSync(indexOf(folder), "utf8")) as { entries: Record<string, checksums.CheckedEntry> }
    const [key, entry] = Object.entries(index.entries)[0]!
    const bin = readFileSync(binOf(folder))
    for (const [offset, length] of checksums.entryRanges(entry)) for (let at = offset; at + 4 <= offset + length; at += 64) bin.writeFloatLE(0.37, at)
    writeFileSync(binOf(folder), bin)
    const size = statSync(binOf(folder)).size
    const damaged = await warned()
    expect(damaged.got).toEqual(expected)
    expect(damaged.warnings).toHaveLength(1)
    expect(damaged.warnings[0]).toContain(binOf(folder))
    expect(damaged.warnings[0]).toMatch(/damaged.*made again/)
    const again = JSON.parse(readFileSync(indexOf(folder), "utf8")) as typeof index
    expect(again.entries[key]!.offset).toBeGreaterThanOrEqual(size)
    // Made again and vouched for: no warning, nothing read.
    const reads = entryReads()
    expect(await warned()).toEqual({ got: expected, warnings: [] })
    expect(entryReads()).toBe(reads)
  })

  it("a store of the older format (entries without checksums) is made again from scratch: the same outputs", async () => {
    const { folder, weight } = storedWeight(64, 96)
    const expected = await withBackend((b) => outputs(b, weight, 64, 96), { prepackedStore: false })
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).toEqual(expected)
    const size = statSync(binOf(folder)).size
    const index = JSON.parse(readFileSync(indexOf(folder), "utf8")) as { entries: Record<string, { sha256?: string }> }
    const older = Object.fromEntries(Object.entries(index.entries).map(([key, { sha256: _sha256, ...rest }]) => [key, rest]))
    writeFileSync(indexOf(folder), JSON.stringify({ format: 1, entries: older }))
    expect(await withBackend((b) => outputs(b, weight, 64, 96))).toEqual(expected)
    expect(statSync(binOf(folder)).size).toBe(size)
    expect((JSON.parse(readFileSync(indexOf(folder), "utf8")) as { format: number }).format).toBe(3)
  })

  it("a store of format 2 (entries without the int4 layout) is made again too", async () => {
    const { folder, weight } = storedWeight(64, 128)
    const expected = await withBackend((b) => outputs(b, weight, 64, 128), { prepackedStore: false })
    expect(await withBackend((b) => outputs(b, weight, 64, 128))).toEqual(expected)
    const size = statSync(binOf(folder)).size
    const index = JSON.parse(readFileSync(indexOf(folder), "utf8")) as { entries: Record<string, { tiled?: unknown }> }
    writeFileSync(indexOf(folder), JSON.stringify({ format: 2, entries: Object.fromEntries(Object.entries(index.entries).map(([key, { tiled: _tiled, ...rest }]) => [key, rest])) }))
    expect(await withBackend((b) => outputs(b, weight, 64, 128))).toEqual(expected)
    expect(statSync(binOf(folder)).size).toBe(size)
    expect((JSON.parse(readFileSync(indexOf(folder), "utf8")) as { format: number }).format).toBe(3)
  })

  it("readAsIs: a float32 head mapped beside a quantised weight is read as it is (an overridable initializer): the same outputs, not pre-packed by the session nor indexed by the store; a group keeps it so only when every member reads it so", async () => {
    // y = x·Wᵀ + x·Hᵀ: W int4 (MatMulNBits, pre-packed), H float32 from its own file in the same folder (8 MiB).
    const [n, k] = [1024, 2048]
    const { folder, weights } = storedWeights(n, k, 1)
    const values = new Float32Array(Array.from({ length: n * k }, (_, i) => Math.sin(i * 0.013) * 0.1))
    writeFileSync(nodePath.join(folder, "head.bin"), Buffer.from(values.buffer))
    const h = { ...hostTensor("float32", [n, k], values), stored: { folder, file: "head.bin", offset: 0 } }
    const headProgram = (rows: number) => {
      const g = new Graph()
      const x = g.input("x", "float32", [rows, k])
      const w = g.parameter("w", "float32", [n, k], { trainable: false })
      const head = g.parameter("h", "float32", [n, k], { trainable: false })
      g.output("y", add(matmul(x, transposeLast2(w)), matmul(x, transposeLast2(head))))
      return g.build()
    }
    const settings = { externalThreshold: 1 << 20, float16Weights: false }
    const compiled = (rows: number, asIs: ReadonlyArray<string>) => compileProgram(headProgram(rows), { h }, settings, { w: weights[0]! }, [], [], false, new Map(), asIs)
    const run = (asIs: ReadonlyArray<string>, group?: string) =>
      withBackend(
        (b) =>
          Effect.forEach([1, 8], (rows) =>
            Effect.gen(function* () {
              const exe = yield* b.compile(headProgram(rows), { constants: { h }, quantised: { w: weights[0]! }, readAsIs: asIs, ...(group !== undefined ? { group } : {}) })
              return [...toFloat64(yield* b.download((yield* b.run(exe, { x: xOf(rows, k) })).y!))]
            })
          ),
        { prepackedStore: false }
      )
    const expected = await run([])
    for (const got of [await run(["h"]), await run(["h"], "family")]) got.forEach((y, i) => y.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 3)))
    const asIs = compiled(1, ["h"])
    const inputNames = (m: typeof asIs.onnx) => m.graph.inputs.map((i) => i.name)
    expect(inputNames(asIs.onnx)).toContain("param:h")
    expect(asIs.onnx.graph.initializers.find((t) => t.name === "param:h")?.external).toEqual({ location: "head.bin", offset: 0, length: values.byteLength })
    expect(asIs.onnx.graph.nodes.map((node) => node.opType)).toContain("MatMulNBits")
    expect(asIs.bundle.mappedAsIs).toBeUndefined()
    // Its session logs errors only (onnxruntime warns of every overridable initializer).
    expect(asIs.bundle.overridableInitializers).toBe(true)
    expect(compiled(1, []).bundle.overridableInitializers).toBeUndefined()
    expect(inputNames(compiled(1, []).onnx)).not.toContain("param:h")
    // A name that is no stored constant changes nothing.
    expect(inputNames(compiled(1, ["w", "absent"]).onnx)).toEqual(inputNames(compiled(1, []).onnx))
    // The store indexes the quantised weight only (and the head too when it is a constant).
    const indexed = async (model: typeof asIs.onnx) => {
      await withPrepackedStore([model], folder, 1)
      return Object.keys((JSON.parse(readFileSync(indexOf(folder), "utf8")) as { entries: Record<string, unknown> }).entries)
    }
    const keys = await indexed(asIs.onnx)
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatch(/MatMulNBits|bits=4/)
    expect(await indexed(compiled(1, []).onnx)).toHaveLength(2)
    // Merged: read as it is when every member reads it so; otherwise a constant (pre-packed once for the group).
    const mergedInputs = (members: ReadonlyArray<ReturnType<typeof compiled>>) => {
      const graph = decodeMessage(bytesOf(decodeMessage(mergeGroup(members).bytes).get(7)?.[0]))
      return (graph.get(11) ?? []).map((v) => stringOf(decodeMessage(bytesOf(v)).get(1)?.[0]))
    }
    expect(mergedInputs([compiled(1, ["h"]), compiled(8, ["h"])])).toContain("param:h")
    expect(mergeGroup([compiled(1, ["h"]), compiled(8, ["h"])]).overridableInitializers).toBe(true)
    expect(mergeGroup([compiled(1, ["h"]), compiled(8, [])]).overridableInitializers).toBeUndefined()
    expect(mergedInputs([compiled(1, ["h"]), compiled(8, [])])).not.toContain("param:h")
    expect(mergedInputs([compiled(1, []), compiled(8, ["h"])])).not.toContain("param:h")
    // Memory, in a fresh process per session (store left out): the constant head is pre-packed into the session's own
    // memory, the one read as it is is not.
    const grown = (bytes: Uint8Array, name: string) => {
      const file = nodePath.join(folder, name)
      writeFileSync(file, bytes)
      const out = execFileSync(process.execPath, [nodePath.join(import.meta.dirname, "support", "session-memory.mjs"), file, folder], { encoding: "utf8", env: { ...process.env, MALLOC_MMAP_THRESHOLD_: "131072" } })
      return (JSON.parse(out.trim().split("\n").pop()!) as { grown: number }).grown
    }
    const constant = grown(compiled(1, []).bundle.bytes, "constant.onnx")
    const readAsIs = grown(asIs.bundle.bytes, "as-is.onnx")
    const groupedAsIs = grown(mergeGroup([compiled(1, ["h"]), compiled(8, ["h"])]).bytes, "group-as-is.onnx")
    const groupedMixed = grown(mergeGroup([compiled(1, ["h"]), compiled(8, [])]).bytes, "group-mixed.onnx")
    console.log(`session anonymous memory, head ${(values.byteLength / 2 ** 20).toFixed(1)} MiB: a constant +${(constant / 2 ** 20).toFixed(1)} MiB, read as it is +${(readAsIs / 2 ** 20).toFixed(1)} MiB; grouped as it is +${(groupedAsIs / 2 ** 20).toFixed(1)}, mixed +${(groupedMixed / 2 ** 20).toFixed(1)}`)
    expect(constant - readAsIs).toBeGreaterThan(0.75 * values.byteLength)
    expect(groupedMixed - groupedAsIs).toBeGreaterThan(0.75 * values.byteLength)
  }, 60_000)
})
