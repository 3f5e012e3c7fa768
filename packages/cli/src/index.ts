/** `@refine-af/cli`: the command tree (for embedding and tests) and exit codes. */
export { refineAf } from "./cli.ts"
export { ExitCode } from "./exit-codes.ts"
export { outcomeOf, type Outcome } from "./report-error.ts"
export { printRunSummary } from "./run-summary.ts"
