/** Policy and reward failures as the stage's `StageError`, keeping their text and fix. */
import { StageError } from "@refine-af/core"

export const asStageError =
  (stage: string, step?: number) =>
  (e: { readonly _tag: string; readonly message: string; readonly fix?: string | undefined; readonly reason?: string }): StageError =>
    e instanceof StageError
      ? e
      : new StageError({
          stage,
          message: `${step === undefined ? "" : `step ${step}: `}${e._tag}${e.reason ? ` (${e.reason})` : ""}: ${e.message}${e.reason === "NonFinite" ? "; nothing was applied and the last checkpoint is kept" : ""}`,
          ...(e.fix ? { fix: e.fix } : {})
        })
