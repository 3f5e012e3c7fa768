#!/usr/bin/env node
/**
 * Runs a command (a package's test runner) with TMPDIR set to a fresh folder
 * and removes that folder when the command ends, so the model folders, run
 * folders and caches the tests write under `os.tmpdir()` do not pile up in
 * /tmp (thousands of folders after a few runs of the suite).
 * REFINE_AF_KEEP_TEST_TMP=1 keeps the folder (its path is printed) to look
 * at what a failing test left.
 *
 *   node ../../tools/test-temp/with-temp-root.mjs vitest run ...
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"

const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
  console.error("usage: with-temp-root.mjs <command> [args...]")
  process.exit(2)
}
const root = mkdtempSync(path.join(tmpdir(), "refine-af-tests-"))
const keep = process.env.REFINE_AF_KEEP_TEST_TMP === "1"
const child = spawn(command, args, { stdio: "inherit", env: { ...process.env, TMPDIR: root } })
// Ctrl-C reaches the child through the terminal's process group; a TERM sent to this process alone is passed on.
process.on("SIGINT", () => {})
process.on("SIGTERM", () => child.kill("SIGTERM"))
const finish = (code) => {
  if (keep) console.error(`test temporary files kept in ${root}`)
  else rmSync(root, { recursive: true, force: true })
  process.exit(code)
}
child.on("error", (error) => {
  console.error(`could not start ${command}: ${error.message}`)
  finish(127)
})
child.on("exit", (code, signal) => finish(code ?? (signal === "SIGINT" ? 130 : 1)))
