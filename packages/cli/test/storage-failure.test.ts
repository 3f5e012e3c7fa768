/** Storage conditions recognised in a run's failures, and the folders a command is given checked up front. */
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { checkFolders, storageFailureOf } from "../src/storage-failure.ts"
import { outcomeOf } from "../src/report-error.ts"
import { cliCommand } from "../src/invocation.ts"

const scratch = () => fs.mkdtempSync(path.join(os.tmpdir(), "refine-af-storage-"))

/** The error Node throws for `mkdir -p folder`. */
const mkdirError = (folder: string): unknown => {
  try {
    fs.mkdirSync(folder, { recursive: true })
  } catch (error) {
    return error
  }
  throw new Error(`mkdir ${folder} did not fail`)
}

describe("storageFailureOf: a file where a folder has to be", () => {
  it("ENOTDIR under a runs folder that is a file names the file and says to pick another --runs-dir", () => {
    const runsDir = path.join(scratch(), "notes.md")
    fs.writeFileSync(runsDir, "a file, not a folder\n")
    const error = mkdirError(path.join(runsDir, "demo-20260101-000000-abcd", "stages"))
    expect((error as { code: string }).code).toBe("ENOTDIR")
    // As Node throws it, and as the run engine wraps it (only its message kept).
    for (const failure of [error, { _tag: "RunIoError", path: runsDir, message: (error as Error).message }]) {
      const storage = storageFailureOf(failure, { runsDir })
      expect(storage?.message).toBe(`${runsDir} is a file, not a folder (ENOTDIR), so ${path.join(runsDir, "demo-20260101-000000-abcd", "stages")} cannot be made`)
      expect(storage?.fix).toBe(`pass a folder as --runs-dir, or move ${runsDir} out of the way, then run the recipe again (stages that had finished come from the cache)`)
    }
  })

  it("EEXIST from mkdir of a cache folder that is a file names it; a file given to a plugin is not the run's to report", () => {
    const root = scratch()
    const cacheDir = path.join(root, "cache")
    fs.writeFileSync(cacheDir, "")
    const storage = storageFailureOf(mkdirError(cacheDir), { runsDir: path.join(root, "runs"), cacheDir })
    expect(storage?.message).toBe(`${cacheDir} is a file where a folder has to be made (EEXIST)`)
    expect(storage?.fix).toContain(`move ${cacheDir} out of the way, or choose another folder (--runs-dir, --cache-dir)`)
    // A model "folder" that is a file, outside the run and its cache: the plugin's error stands.
    const modelFile = path.join(root, "model.bin")
    fs.writeFileSync(modelFile, "")
    expect(storageFailureOf(mkdirError(path.join(modelFile, "x")), { runsDir: path.join(root, "runs"), cacheDir })).toBeUndefined()
    // EEXIST of anything but mkdir (an exclusive create) is no storage condition.
    expect(storageFailureOf({ code: "EEXIST", syscall: "open", path: cacheDir }, { runsDir: path.join(root, "runs"), cacheDir })).toBeUndefined()
  })

  it("ENOSPC with no path (Node leaves it out of some write errors) names the running run and says to resume it", () => {
    const runsDir = path.join(scratch(), "runs")
    const run = (name: string, status: string) => {
      fs.mkdirSync(path.join(runsDir, name), { recursive: true })
      fs.writeFileSync(path.join(runsDir, name, "manifest.json"), JSON.stringify({ status }))
    }
    run("sft-20260101-000000-aaaa", "completed")
    run("sft-20260101-000100-bbbb", "running")
    const storage = storageFailureOf({ code: "ENOSPC", syscall: "write" }, { runsDir })
    const running = path.join(runsDir, "sft-20260101-000100-bbbb")
    expect(storage?.message).toBe(`the disk is full (ENOSPC) writing ${running}`)
    const cli = cliCommand()
    expect(storage?.fix).toBe(`free space on the disk holding ${running} (\`${cli} cache\` shows what the cache folder holds; \`${cli} cache prune --older-than 30d\` removes what runs have not used for a month), then continue with: ${cli} resume ${running} (committed records are kept)`)
    expect(storage?.message).not.toContain("unknown path")
  })
})

describe("checkFolders", () => {
  const runsFolder = (folder: string) => ({ named: `--runs-dir ${folder}`, path: folder, change: "pass a folder (or a path to create) as --runs-dir" })

  it("refuses a file, or a path under a file, as exit 2 with the flag, the file and the fix", () => {
    const root = scratch()
    const file = path.join(root, "README.md")
    fs.writeFileSync(file, "")
    const itself = Effect.runSyncExit(checkFolders([runsFolder(file)]))
    expect(outcomeOf(itself)).toEqual({
      code: 2,
      message: `error: --runs-dir ${file} is a file, not a folder\n  fix: pass a folder (or a path to create) as --runs-dir, or move ${file} out of the way`
    })
    const below = Effect.runSyncExit(checkFolders([runsFolder(path.join(file, "runs"))]))
    expect(Exit.isFailure(below) && outcomeOf(below).message).toContain(`--runs-dir ${path.join(file, "runs")} cannot be a folder: ${file} is a file`)
  })

  it("accepts a folder and a path still to create", () => {
    const root = scratch()
    expect(Exit.isSuccess(Effect.runSyncExit(checkFolders([runsFolder(root), runsFolder(path.join(root, "a", "b"))])))).toBe(true)
  })
})
