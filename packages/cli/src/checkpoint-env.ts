/**
 * Checkpoint frequency of record streams from the environment:
 * `REFINE_AF_CHECKPOINT_RECORDS` (default 1000) and `REFINE_AF_CHECKPOINT_MS`
 * (default 1000). Lower values lose less work on a crash at some I/O cost;
 * the crash tests use them to kill runs between frequent checkpoints.
 */
import type { CheckpointPolicy } from "@refine-af/core"

const positive = (name: string): number | undefined => {
  const value = Number(process.env[name])
  return Number.isFinite(value) && value > 0 ? value : undefined
}

/** The checkpoint policy the environment asks for (empty = engine defaults). */
export const checkpointFromEnv = (): CheckpointPolicy => {
  const everyRecords = positive("REFINE_AF_CHECKPOINT_RECORDS")
  const everyMs = positive("REFINE_AF_CHECKPOINT_MS")
  return {
    ...(everyRecords !== undefined ? { everyRecords } : {}),
    ...(everyMs !== undefined ? { everyMs } : {})
  }
}
