/** The start was aborted while it waited for the stores: nothing had been relayed or consumed. */
export class StartAbortedError extends Error {
  readonly code = "WORKER_START_ABORTED";
  constructor() {
    super("the worker was stopped while it waited for Postgres, Redis or the database's migrations");
    this.name = "StartAbortedError";
  }
}
