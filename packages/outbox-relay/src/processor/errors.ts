/**
 * A failure that no retry can mend (a 410 Gone, a refused address, a payload the handler cannot
 * use). The event goes to the dead-letter queue at once, without spending its remaining attempts.
 */
export class PermanentError extends Error {
  readonly code: string = "EVENT_PERMANENT_FAILURE";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentError";
  }
}

/** A handler that ran longer than its type's timeout. Retryable. */
export class HandlerTimeoutError extends Error {
  readonly code = "HANDLER_TIMEOUT";
  constructor(eventType: string, timeoutMs: number) {
    super(`${eventType} handler did not finish within ${timeoutMs} ms`);
    this.name = "HandlerTimeoutError";
  }
}

/** An event type with no registered handler: a deploy problem, not a data problem. Retryable. */
export class NoHandlerError extends Error {
  readonly code = "HANDLER_MISSING";
  constructor(eventType: string) {
    super(`no handler is registered for ${eventType}`);
    this.name = "NoHandlerError";
  }
}

/**
 * Not now: an external handler that cannot start yet (a cap on calls in progress is full) throws
 * this before doing anything. The job goes back to delayed for `delayMs` and runs again then; the
 * run is not an attempt (nothing is recorded on the row, BullMQ's attemptsMade is unchanged).
 */
export class DeferredError extends Error {
  readonly code = "EVENT_DEFERRED";
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = "DeferredError";
  }
}
