/**
 * How the user starts the CLI, for the commands our messages suggest: `npx refine-af` when npm
 * started this process (npx, `npm exec`, an npm script: the project's local install, which is not
 * on PATH), else `refine-af` (installed globally, or a shell alias).
 *
 * @example
 * ```ts
 * import { cliCommand } from "./invocation.ts"
 * `continue with: ${cliCommand()} resume runs/x`
 * ```
 */
export const cliCommand = (env: NodeJS.ProcessEnv = process.env): string => (env["npm_command"] !== undefined && env["npm_command"] !== "" ? "npx refine-af" : "refine-af")
