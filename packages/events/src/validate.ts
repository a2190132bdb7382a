import type { z } from "zod";
import { eventCatalog, isEventType, type EventPayload, type EventType } from "./catalog.ts";

/** A payload that does not match its type's schema. Never worth a retry. */
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

export function parseEvent<T extends EventType>(type: T, payload: unknown): EventPayload<T>;
export function parseEvent(type: string, payload: unknown): unknown;
export function parseEvent(type: string, payload: unknown): unknown {
  if (!isEventType(type)) throw new InvalidEventError(type, [{ path: "event_type", message: `is not a known event type` }]);
  const result = eventCatalog[type].schema.safeParse(payload);
  if (!result.success) throw new InvalidEventError(type, describeIssues(result.error));
  return result.data;
}
