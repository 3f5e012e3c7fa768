/** `runStage` returns the exit; `runStageOk` throws on failure (names kept from before the shared package). */
export { runStageExit as runStage, runStage as runStageOk } from "@refine-af/testing"
