import { Effect, Exit, Schema } from "effect"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { acquireRunLock, defineStage, isZombie, resumeRun, runRecipe, StageError } from "../../src/index.ts"
import { makeRecipe, tempDir } from "./fixtures.ts"

const failingOnce = () => {
  let failed = false
  return defineStage({
    role: "generator",
    description: "fails the first time",
    options: Schema.Struct({}),
    run: (ctx) => (failed ? Effect.void : Effect.sync(() => (failed = true)).pipe(Effect.andThen(Effect.fail(new StageError({ stage: ctx.name, message: "first try" })))))
  })
}

const failedRun = async () => {
  const runsDir = tempDir("runs")
  const recipe = makeRecipe({ stages: { only: { component: failingOnce() } } })
  await Effect.runPromiseExit(runRecipe(recipe, { runsDir, cache: false }))
  return { runDir: path.join(runsDir, fs.readdirSync(runsDir)[0]!), recipe }
}

describe("run lock", () => {
  it("is released when a run ends", async () => {
    const { runDir } = await failedRun()
    expect(fs.existsSync(path.join(runDir, ".lock"))).toBe(false)
  })

  it("refuses a resume while another live process holds the run", async () => {
    const { runDir, recipe } = await failedRun()
    fs.writeFileSync(path.join(runDir, ".lock"), JSON.stringify({ pid: process.ppid, hostname: os.hostname() }))
    const exit = await Effect.runPromiseExit(resumeRun(runDir, recipe))
    const error = Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error : undefined
    expect(error?._tag).toBe("RunDirInvalid")
    expect(error?.message).toContain(`process ${process.ppid}`)
  })

  it("a resume waits a little for a local holder to let go (a run interrupted a moment ago is still saving)", async () => {
    const { runDir, recipe } = await failedRun()
    const saving = spawn("sleep", ["1"], { stdio: "ignore" })
    fs.writeFileSync(path.join(runDir, ".lock"), JSON.stringify({ pid: saving.pid, hostname: os.hostname() }))
    const resumed = await Effect.runPromise(resumeRun(runDir, recipe))
    expect(resumed.manifest.status).toBe("completed")
  })

  it("respects a lock held from another host (shared file systems)", () => {
    const dir = tempDir("remote-lock")
    fs.writeFileSync(path.join(dir, ".lock"), JSON.stringify({ pid: 1, hostname: `${os.hostname()}-elsewhere` }))
    expect(acquireRunLock(dir)).toEqual({ pid: 1, hostname: `${os.hostname()}-elsewhere` })
  })

  it("takes over a lock left by a dead process (kill -9) or a torn lock file", async () => {
    const { runDir, recipe } = await failedRun()
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid!
    fs.writeFileSync(path.join(runDir, ".lock"), JSON.stringify({ pid: deadPid, hostname: os.hostname() }))
    const resumed = await Effect.runPromise(resumeRun(runDir, recipe))
    expect(resumed.manifest.status).toBe("completed")

    // A holder killed with -9 whose parent has not reaped it yet is a zombie: kill(pid, 0) succeeds, but it holds nothing.
    if (fs.existsSync("/proc/self/stat")) {
      // `sh` starts a short child and execs into `sleep`, which never reaps it: a zombie for as long as the sleep.
      const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 20"], { stdio: ["ignore", "pipe", "ignore"] })
      const zombiePid = Number(await new Promise<string>((resolve) => parent.stdout.once("data", (data) => resolve(String(data).trim()))))
      try {
        for (let i = 0; i < 100 && isZombie(zombiePid) !== true; i++) await new Promise((resolve) => setTimeout(resolve, 20))
        expect(isZombie(zombiePid)).toBe(true)
        const zombieDir = tempDir("zombie-lock")
        fs.writeFileSync(path.join(zombieDir, ".lock"), JSON.stringify({ pid: zombiePid, hostname: os.hostname() }))
        const taken = acquireRunLock(zombieDir)
        expect(typeof taken).toBe("function")
        ;(taken as () => void)()
        expect(isZombie(process.pid)).toBe(false)
      } finally {
        parent.kill("SIGKILL")
      }
    } else console.log("skipped the zombie-holder check: no /proc on this system")

    const dir = tempDir("torn-lock")
    fs.writeFileSync(path.join(dir, ".lock"), '{"pid":12')
    const release = acquireRunLock(dir)
    expect(typeof release).toBe("function")
    ;(release as () => void)()
    expect(fs.existsSync(path.join(dir, ".lock"))).toBe(false)
  })
})

describe("run lock under contention", () => {
  it("many processes taking the same lock: never two holders, never an error, only clean refusals", async () => {
    const dir = tempDir("lock-race")
    const contender = path.join(path.dirname(new URL(import.meta.url).pathname), "lock-contender.ts")
    const children = Array.from({ length: 4 }, () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", contender, dir, "400"], { stdio: ["ignore", "pipe", "inherit"] })
        let out = ""
        child.stdout.on("data", (chunk) => (out += chunk))
        child.on("close", () => resolve(out))
      }))
    const reports = (await Promise.all(children)).map((out) => JSON.parse(out) as { attempts: number; held: number; refused: number; overlaps: number; errors: Array<string> })
    expect(reports.flatMap((report) => report.errors)).toEqual([])
    expect(reports.reduce((sum, report) => sum + report.overlaps, 0)).toBe(0)
    // Every attempt either held the lock or was cleanly refused; each process made its 400 rounds (and, if it never
    // held the lock in them, kept trying: the lock was busy, not stuck) and held it at least once.
    for (const report of reports) {
      expect(report.attempts).toBeGreaterThanOrEqual(400)
      expect(report.held + report.refused).toBe(report.attempts)
      expect(report.held).toBeGreaterThan(0)
    }
  }, 60_000)
})
