/**
 * Policy and reward failures of an RL trainer stage as the stage's `StageError`,
 * keeping their text and fix (and, for a non-finite loss, that nothing was applied).
 */
import { StageError } from "@refine-af/core"

export const asTrainerStageError =
  (stage: string, step?: number) =>
  (e: { readonly _tag: string; readonly message: string; readonly fix?: string | undefined; readonly reason?: string }): StageError =>
    e instanceof StageError
      ? e
      : new StageError({
          stage,
          message: `${step === undefined ? "" : `step ${step}: `}${e._tag}${e.reason ? ` (${e.reason})` : ""}: ${e.message}${e.reason === "NonFinite" ? `${/not applied/.test(e.message) ? "" : "; nothing was applied"}; the last checkpoint is kept` : ""}`,
          ...(e.fix ? { fix: e.fix } : {})
        })
