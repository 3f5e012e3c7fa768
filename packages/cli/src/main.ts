/**
 * Entry point of the `refine-af` binary: runs the command tree, turns Ctrl-C /
 * SIGTERM into fiber interruption (finalizers run, records are checkpointed,
 * the manifest says `interrupted`), and maps the outcome to an exit code.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Fiber } from "effect"
import { Command } from "effect/cli"
import { readFileSync } from "node:fs"
import { refineAf } from "./cli.ts"
import { ExitCode } from "./exit-codes.ts"
import { outcomeOf } from "./report-error.ts"

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version

// A reader that stops early (`refine-af plugins | head`) closes the pipe: what is left has
// nowhere to go, which is no failure of the command. Without a handler Node throws EPIPE as an
// unhandled 'error' event, a stack trace and exit 1; with it the command finishes as usual.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error
  })
}

const program = Command.runWith(refineAf, { version })(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer))
const fiber = Effect.runFork(program)

let signals = 0
const onSignal = (signal: NodeJS.Signals) => {
  signals++
  // A second Ctrl-C (or signal) means "now": committed records are safe on disk anyway.
  if (signals > 1) process.exit(ExitCode.interrupted)
  process.stderr.write(signal === "SIGINT" ? "\ninterrupting (Ctrl-C again to force)...\n" : `\n${signal} received: interrupting (send it again, or Ctrl-C, to force)...\n`)
  Effect.runFork(Fiber.interrupt(fiber))
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

// `npx refine-af …` (or an npm script `refine-af …`) runs this process under npm and a shell; a
// SIGTERM to npm ends those two and leaves this one running, re-parented: a server still holding
// its port, a run still writing (a later resume would find it locked). When npm ran refine-af
// itself (the command of its script, npm_lifecycle_script, is refine-af), a new parent means npm
// is gone: stop as for SIGTERM. Otherwise being re-parented may be intended (a script npm runs
// that backgrounds `refine-af serve &` and exits while npm goes on): no watch.
const parentAtStart = process.ppid
const npmCommand = (process.env["npm_lifecycle_script"] ?? "").trim().split(/\s+/)[0]!.replace(/^['"]|['"]$/g, "")
const orphanWatch = !process.env["npm_command"] || !/(^|\/)refine-af(\.js)?$/.test(npmCommand) ? undefined : setInterval(() => {
  if (process.ppid === parentAtStart || signals > 0) return
  clearInterval(orphanWatch)
  signals++
  process.stderr.write("\nnpm (npx, npm exec or npm run), which started refine-af, has exited: interrupting, as for SIGTERM...\n")
  Effect.runFork(Fiber.interrupt(fiber))
}, 1000)
orphanWatch?.unref()

const exit = await Effect.runPromise(Fiber.await(fiber))
const outcome = outcomeOf(exit)
if (outcome.message) process.stderr.write(`${outcome.message}\n`)
process.exitCode = outcome.code
process.removeListener("SIGINT", onSignal)
process.removeListener("SIGTERM", onSignal)
clearInterval(orphanWatch)
