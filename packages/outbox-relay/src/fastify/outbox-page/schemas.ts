import { z } from "zod";
import type { EventState } from "../../stats/index.ts";
import { isoDateTime, pageLimit } from "../schemas.ts";
import { listableStatuses, type EventSummary, type HeldAggregate, type Holder } from "./queries.ts";

const text = z.string().min(1).max(200);

/** The filters and the page of the events list (HTML and JSON alike). Empty form fields are dropped before validation. */
export const listQuery = z.object({
  status: z.enum(listableStatuses).optional(),
  type: text.optional(),
  aggregateType: text.optional(),
  aggregateId: text.optional(),
  tenantId: text.optional(),
  causedBy: z.uuid("must be a UUID").optional(),
  before: z.string().regex(/^\d{1,18}$/, "must be the sequence number of the last event of the previous page").optional(),
  limit: pageLimit(500, 50),
});

export const idParams = z.object({ id: z.uuid("must be a UUID") });

export const heldQuery = z.object({ limit: pageLimit(1000, 200) });

/** The replay form of a catalog's types. */
export function replayForm(types: readonly string[]) {
  return z.object({
    type: z.enum(types),
    since: isoDateTime,
    until: isoDateTime.optional(),
  });
}

/** Where a retry or skip form sends the admin back to. */
export const actionForm = z.object({ back: z.enum(["event", "held"]).default("event") }).default({ back: "event" });

export const eventNotice = z.object({ notice: z.enum(["retried", "skipped"]).optional() });

const iso = z.iso.datetime();

export const eventSummaryJson = z.object({
  id: z.uuid(),
  sequence: z.string(),
  type: z.string(),
  aggregateType: z.string(),
  aggregateId: z.string(),
  tenantId: z.string().nullable(),
  status: z.string(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  causationId: z.uuid().nullable(),
  createdAt: iso,
  processedAt: iso.nullable(),
});

export const eventPageJson = z.object({
  events: z.array(eventSummaryJson),
  next: z.string().nullable().describe("the `before` cursor of the next, older page; null on the last page"),
});

export const eventJson = z.object({
  event: z.object({
    id: z.uuid(),
    type: z.string(),
    status: z.string(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    aggregateType: z.string(),
    aggregateId: z.string(),
    tenantId: z.string().nullable(),
    causationId: z.uuid().nullable(),
    payload: z.unknown(),
    availableAt: iso,
    createdAt: iso,
    processedAt: iso.nullable(),
    heldBy: z.object({ id: z.uuid(), type: z.string(), status: z.string() }).nullable(),
  }),
  caused: eventPageJson,
});

export const heldJson = z.object({
  aggregates: z.array(
    z.object({
      aggregateType: z.string(),
      aggregateId: z.string(),
      tenantId: z.string().nullable(),
      deadId: z.uuid(),
      deadType: z.string(),
      lastError: z.string().nullable(),
      attempts: z.number().int(),
      deadSince: iso,
      heldEvents: z.number().int(),
    }),
  ),
});

export function summaryToJson(event: EventSummary): z.infer<typeof eventSummaryJson> {
  return { ...event, createdAt: event.createdAt.toISOString(), processedAt: event.processedAt?.toISOString() ?? null };
}

export function eventToJson(event: EventState, holder: Holder | undefined): z.infer<typeof eventJson>["event"] {
  return {
    id: event.id,
    type: event.type,
    status: event.status,
    attempts: event.attempts,
    lastError: event.lastError,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    tenantId: event.tenantId,
    causationId: event.causationId,
    payload: event.payload,
    availableAt: event.availableAt.toISOString(),
    createdAt: event.createdAt.toISOString(),
    processedAt: event.processedAt?.toISOString() ?? null,
    heldBy: holder ?? null,
  };
}

export function heldToJson(row: HeldAggregate): z.infer<typeof heldJson>["aggregates"][number] {
  return { ...row, deadSince: row.deadSince.toISOString() };
}
