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

const program = Command.runWith(refineAf, { version })(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer))
const fiber = Effect.runFork(program)

let signals = 0
const onSignal = () => {
  signals++
  // A second Ctrl-C means "now": committed records are safe on disk anyway.
  if (signals > 1) process.exit(ExitCode.interrupted)
  process.stderr.write("\ninterrupting (Ctrl-C again to force)...\n")
  Effect.runFork(Fiber.interrupt(fiber))
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)

const exit = await Effect.runPromise(Fiber.await(fiber))
const outcome = outcomeOf(exit)
if (outcome.message) process.stderr.write(`${outcome.message}\n`)
process.exitCode = outcome.code
process.removeListener("SIGINT", onSignal)
process.removeListener("SIGTERM", onSignal)
