/**
 * The `refine-af` command tree. Subcommands live in `commands/<name>.ts`.
 */
import { Command } from "effect/cli"
import { cacheCommand } from "./commands/cache.ts"
import { compareCommand } from "./commands/compare.ts"
import { dataCommand, modelsCommand } from "./commands/pull.ts"
import { inspectCommand } from "./commands/inspect.ts"
import { pluginsCommand, pluginsNewCommand } from "./commands/plugins.ts"
import { recipesCommand } from "./commands/recipes.ts"
import { reportCommand } from "./commands/report.ts"
import { resumeCommand } from "./commands/resume.ts"
import { runCommand } from "./commands/run.ts"
import { runsCommand } from "./commands/runs.ts"
import { schemaCommand } from "./commands/schema.ts"
import { serveCommand } from "./commands/serve.ts"
import { validateCommand } from "./commands/validate.ts"

/** The root command with every subcommand. */
export const refineAf = Command.make("refine-af").pipe(
  Command.withDescription("REFINE-AF: build instruction-tuning datasets and better models from a small LLM and a few seed tasks"),
  Command.withSubcommands([
    runCommand,
    resumeCommand,
    inspectCommand,
    runsCommand,
    reportCommand,
    validateCommand,
    pluginsCommand.pipe(Command.withSubcommands([pluginsNewCommand])),
    recipesCommand,
    schemaCommand,
    compareCommand,
    cacheCommand,
    modelsCommand,
    dataCommand,
    serveCommand
  ])
)
