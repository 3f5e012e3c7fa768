/**
 * Turns how a command ended into one clean message and an exit code. Typed
 * errors print their message (and fix); stack traces only with
 * REFINE_AF_DEBUG=1.
 */
import { Cause, Exit } from "effect"
import { formatRecipeErrors } from "@refine-af/core"
import { ExitCode } from "./exit-codes.ts"

/** What to print (stderr) and which code to exit with. */
export interface Outcome {
  readonly code: ExitCode
  readonly message?: string
}

const debug = () => process.env["REFINE_AF_DEBUG"] === "1"

const describeTagged = (error: { readonly _tag: string } & Record<string, unknown>): Outcome => {
  switch (error._tag) {
    case "RecipeInvalid":
      return { code: ExitCode.usage, message: `${formatRecipeErrors(error as never)}\nfix the problems above (in the recipe, or in a plugin's code where they point there) and run again — completed stages come from the cache` }
    case "RunDirInvalid":
      return { code: ExitCode.usage, message: `error: ${String(error["message"])}\n  fix: ${String(error["fix"])}` }
    case "StageError":
      return {
        code: ExitCode.failure,
        message: `error in ${String(error["stage"]).startsWith("resource:") ? `resource "${String(error["stage"]).slice("resource:".length)}"` : `stage "${String(error["stage"])}"`}: ${String(error["message"])}` +
          (error["fix"] ? `\n  fix: ${String(error["fix"])}` : "")
      }
    case "RecipeCopyRefused":
    case "ListenFailed":
      return { code: ExitCode.usage, message: `error: ${String(error["message"])}\n  fix: ${String(error["fix"])}` }
    case "ShowHelp":
      // Usage errors: effect/cli has already printed them with the help text.
      return { code: Array.isArray(error["errors"]) && error["errors"].length > 0 ? ExitCode.usage : ExitCode.ok }
    default:
      if (typeof error["message"] === "string" && error["message"] !== "") {
        const fix = typeof error["fix"] === "string" ? `\n  fix: ${error["fix"]}` : ""
        const code = error._tag.endsWith("Invalid") || error._tag.startsWith("Invalid") || error._tag.startsWith("Missing") || error._tag.startsWith("Unknown") || error._tag.startsWith("Duplicate")
          ? ExitCode.usage
          : ExitCode.failure
        return { code, message: `error: ${error["message"]}${fix}` }
      }
      return { code: ExitCode.failure, message: `error: ${error._tag}` }
  }
}

/** The outcome of a finished command fiber. */
export const outcomeOf = (exit: Exit.Exit<unknown, unknown>): Outcome => {
  if (Exit.isSuccess(exit)) return { code: ExitCode.ok }
  if (Cause.hasInterruptsOnly(exit.cause)) return { code: ExitCode.interrupted }
  const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  if (failure?._tag === "Fail") {
    const error = failure.error
    if (typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string") {
      const outcome = describeTagged(error as { readonly _tag: string } & Record<string, unknown>)
      return debug() && outcome.message ? { ...outcome, message: `${outcome.message}\n${Cause.pretty(exit.cause)}` } : outcome
    }
    return { code: ExitCode.failure, message: `error: ${String(error)}` }
  }
  if (Cause.hasInterrupts(exit.cause)) return { code: ExitCode.interrupted }
  return {
    code: ExitCode.failure,
    message: debug()
      ? `unexpected error:\n${Cause.pretty(exit.cause)}`
      : `unexpected error: ${String(Cause.squash(exit.cause))}\n  (run with REFINE_AF_DEBUG=1 for the stack trace, and please report it)`
  }
}
