/**
 * Maps the evaluator's typed errors (and provider errors) to the core
 * `StageError`, keeping the file, line and fix in the one message a user sees.
 */
import { StageError } from "@refine-af/core"

interface Explained {
  readonly _tag: string
  readonly message: string
  readonly fix?: string | undefined
  readonly path?: string
  readonly line?: number | undefined
}

/** Builds the `StageError` of stage `stage` from any of our tagged errors. */
export const toStageError = (stage: string) => (error: Explained): StageError => {
  const where = error.path === undefined ? "" : `${error.path}${error.line === undefined ? "" : `:${error.line}`}: `
  return new StageError({ stage, message: `${error._tag}: ${where}${error.message}`, fix: error.fix })
}
