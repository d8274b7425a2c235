/**
 * Exit codes of the causeway CLI:
 * 0 done (and, for verify, nothing damaged); 1 the store is damaged or the
 * work failed; 2 the command line was wrong (unknown option, bad value, no
 * store at the path).
 */
export const Exit = { ok: 0, failure: 1, usage: 2 } as const

/** A wrong command line or a path that holds no store: exit code 2. */
export class UsageError extends Error {
  readonly exitCode = Exit.usage
}

/** The work failed; the message says why: exit code 1. */
export class Failure extends Error {
  readonly exitCode = Exit.failure
}
