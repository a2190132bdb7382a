import type { z } from "zod";

/** A payload that does not match its type's schema, or an unknown type. Never worth a retry. */
export class InvalidEventError extends Error {
  readonly code = "EVENT_INVALID";
  constructor(
    readonly eventType: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(`invalid ${eventType} payload: ${issues.map((issue) => `${issue.path || "(payload)"} ${issue.message}`).join("; ")}`);
    this.name = "InvalidEventError";
  }
}

export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}
