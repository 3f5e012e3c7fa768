/**
 * Test entry point running only the recipe commands (validate, plugins,
 * recipes, schema) with the CLI's own error reporting and exit codes, so the
 * end-to-end tests do not depend on how main.ts wires the command tree.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { pluginsCommand } from "../../src/commands/plugins.ts"
import { recipesCommand } from "../../src/commands/recipes.ts"
import { schemaCommand } from "../../src/commands/schema.ts"
import { validateCommand } from "../../src/commands/validate.ts"
import { outcomeOf } from "../../src/report-error.ts"

const root = Command.make("refine-af").pipe(Command.withSubcommands([validateCommand, pluginsCommand, recipesCommand, schemaCommand]))
const exit = await Effect.runPromiseExit(
  Command.runWith(root, { version: "0.0.0-test" })(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer))
)
const outcome = outcomeOf(exit)
if (outcome.message) process.stderr.write(`${outcome.message}\n`)
process.exitCode = outcome.code
