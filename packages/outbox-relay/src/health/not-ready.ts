/**
 * A readiness check's failure that is not about reaching a dependency (the database lacks a
 * migration): /readyz shows its message as it is, not as "unreachable (…)".
 */
export class NotReadyError extends Error {
  readonly code = "NOT_READY";
  constructor(message: string) {
    super(message);
    this.name = "NotReadyError";
  }
}
