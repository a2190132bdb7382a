/** Exit codes: 0 ok, 1 an operation failed (unknown id, not dead, invalid payload), 2 bad arguments. */
export const exitCodes = { ok: 0, operation: 1, usage: 2 } as const;

/** The command line itself is wrong: an unknown command or option, a missing or malformed value. */
export class UsageError extends Error {
  readonly code = "CLI_USAGE";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The arguments were fine but the operation could not be done. */
export class OperationError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "OperationError";
  }
}
