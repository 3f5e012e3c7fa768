/**
 * The one error of the training contract. `reason` says which failure mode it
 * is, `message` names the offending record / option / file, and `fix` says how
 * to recover. Stages turn it into a `StageError` (exit 1) keeping its text.
 *
 * @example
 * ```ts
 * import { PolicyError } from "@refine-af/training"
 * const e = new PolicyError({ reason: "UnknownLoraTarget", message: "LoRA target \"c_attn\" is not a module of this model", fix: "use one of q_proj, v_proj" })
 * ```
 */
import { Schema } from "effect"

/** Why a policy operation failed. */
export const PolicyErrorReason = Schema.Literals([
  /** A malformed call: feeds that do not match the batch, an objective asking for a head the session lacks, … */
  "InvalidRequest",
  /** A sequence (prompt + completion) longer than the model's context. */
  "ContextOverflow",
  /** A LoRA target module the model does not have. */
  "UnknownLoraTarget",
  /** The loss or gradient norm is NaN/∞: the update was NOT applied; the last checkpoint is intact. */
  "NonFinite",
  /** Reading or writing a checkpoint / adapter folder failed, or a checkpoint does not match the session. */
  "Checkpoint",
  /** The model cannot do this (e.g. no chat template). */
  "Unsupported",
  /** The compute backend failed. */
  "Backend"
])
export type PolicyErrorReason = typeof PolicyErrorReason.Type

/** Every failure of a `PolicyModel` or `PolicySession`. */
export class PolicyError extends Schema.TaggedError<PolicyError>()("PolicyError", {
  reason: PolicyErrorReason,
  message: Schema.String,
  fix: Schema.optional(Schema.String)
}) {}

/**
 * The fix of a `NonFinite` update. A plain resume repeats the same update from
 * the same checkpoint, so the advice is to change what caused it; a changed
 * option of the failed stage makes resume run that stage again from its start
 * (its identity changed), keeping the stages before it.
 */
export const NON_FINITE_UPDATE_FIX =
  "lower the learning rate or clip the gradient norm, or fix the data / rewards that produced it: `refine-af resume <run> stages.<stage>.lr=<lower>` runs this stage again from its start with the new value and keeps the stages before it (a plain resume repeats the same update from the last checkpoint)"
