/**
 * Exit codes of `refine-af`: 0 ok, 1 runtime failure, 2 usage or recipe
 * error, 130 interrupted (Ctrl-C / SIGTERM; the run can be resumed).
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130
} as const

/** One of the exit codes above. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]
