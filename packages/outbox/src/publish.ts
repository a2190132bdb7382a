import { randomUUID } from "node:crypto";
import type { Tx } from "@outbox/db";
import { eventCatalog, parseEvent, type EventPayload, type EventType } from "@outbox/events";

export interface NewEvent<T extends EventType = EventType> {
  type: T;
  payload: EventPayload<T>;
  /** Defaults to a new UUID; it is also the BullMQ job id and the idempotency key. */
  id?: string;
  /** Defaults to the catalog's aggregate for the type, read from the payload. */
  aggregate?: { type: string; id: string };
  /** Defaults to the payload's tenantId. */
  tenantId?: string | null;
  /** Not before this time (a delayed event). */
  availableAt?: Date;
  /** The event this one follows from (a follow-up, a replay). */
  causationId?: string;
}

type AnyNewEvent = { [T in EventType]: NewEvent<T> }[EventType];

/**
 * Writes events into the outbox inside the caller's transaction: they exist exactly when the
 * caller's business change commits. A payload that fails its schema throws InvalidEventError
 * before anything is written, and the caller's transaction rolls back with it.
 */
export async function publishMany(tx: Tx, events: readonly AnyNewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = events.map(toRow);
  await tx.eventOutbox.createMany({ data: rows });
  return rows.map((row) => row.id);
}

export async function publish<T extends EventType>(tx: Tx, event: NewEvent<T>): Promise<string> {
  const [id] = await publishMany(tx, [event as AnyNewEvent]);
  return id!;
}

function toRow(event: AnyNewEvent) {
  const payload = parseEvent(event.type, event.payload) as Record<string, unknown>;
  const aggregate = event.aggregate ?? (eventCatalog[event.type].aggregate as (p: unknown) => { type: string; id: string })(payload);
  const tenantId = event.tenantId !== undefined ? event.tenantId : typeof payload.tenantId === "string" ? payload.tenantId : null;
  return {
    id: event.id ?? randomUUID(),
    eventType: event.type,
    aggregateType: aggregate.type,
    aggregateId: aggregate.id,
    tenantId,
    payload: payload as object,
    ...(event.availableAt ? { availableAt: event.availableAt } : {}),
    ...(event.causationId ? { causationId: event.causationId } : {}),
  };
}
