import { z } from "zod";

/**
 * The admin routes' schemas: Fastify validates each request with them (fastify-type-provider-zod),
 * serializes each answer through its status's schema (a field not described never leaves the
 * server), and the application's OpenAPI document describes the same schemas.
 */

/** A point in time in a request: ISO-8601 with an offset, each field's range checked (no month 13, no Feb 29 outside leap years). */
export const isoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time with an offset, e.g. 2026-01-31T09:00:00Z" });

/** A page size in a query string: a whole number from 1 to `max`, `fallback` when absent. */
export function pageLimit(max: number, fallback: number) {
  return z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`)
    .default(fallback)
    .meta({ description: `per page, 1 to ${max} (default ${fallback})` });
}

/** A time in an answer, as an ISO-8601 string (a Date serializes to one). */
export const timestamp = z
  .custom<Date | string>((value) => value instanceof Date || (typeof value === "string" && !Number.isNaN(Date.parse(value))), "must be a date-time")
  .meta({ type: "string", format: "date-time" });

const uuid = z.string().meta({ format: "uuid" });

/** The one error shape of the plugin's JSON routes. */
export const errorBody = z.object({
  error: z.string().meta({ description: "what went wrong, in words a person can act on" }),
  code: z.string().meta({ description: "a stable code to branch on: VALIDATION_FAILED, EVENT_NOT_FOUND, EVENT_NOT_DEAD, …" }),
  issues: z.array(z.object({ path: z.string().meta({ description: "the field, dotted (`items.0.quantity`); empty for the whole part" }), message: z.string() })).optional().meta({ description: "one per failing field" }),
});

const errorMeanings = {
  400: "Invalid input: VALIDATION_FAILED with one issue per failing field; nothing was changed",
  401: "No credentials, or credentials that are not valid (the authenticate hook)",
  404: "No such event (EVENT_NOT_FOUND)",
  409: "The event's state refuses it; `code` says why",
  413: "The body is too large",
  415: "The body is not application/json",
  503: "Postgres or Redis is unavailable, or a released event's job is not queued yet; come back after Retry-After seconds",
} as const;
export type ErrorStatus = keyof typeof errorMeanings;

/** A route's `schema.response`: its answers plus the error statuses it can give, each with the one error shape. */
export function answers<const R extends Record<number, z.ZodType>, const E extends readonly ErrorStatus[]>(success: R, errors: E) {
  const refusals = {} as Record<E[number], typeof errorBody>;
  for (const status of errors) (refusals as Record<number, z.ZodType>)[status] = errorBody.meta({ description: errorMeanings[status] });
  return { ...success, ...refusals };
}

/** What every admin route can answer before it runs: the authenticate hook's 401; Postgres or Redis away, 503. */
export const adminRefusals = [401, 503] as const;

const described = <T extends z.ZodType>(schema: T, description: string) => schema.meta({ description });

const counts = z.object({ pending: z.number(), dispatched: z.number(), dead: z.number(), processed: z.number(), skipped: z.number() });
const queueCounts = z.object({ waiting: z.number(), active: z.number(), delayed: z.number(), failed: z.number() });

export const statsResult = described(
  z.object({
    outbox: counts,
    estimated: z.array(z.string()).meta({ description: "the figures that are planner estimates (a status with 100,000 rows or more)" }),
    lagMs: z.number(),
    heldEvents: z.number(),
    heldAggregates: z.number(),
    queues: z.record(z.string(), queueCounts),
    dlqSize: z.number(),
    relayBacklog: z.number(),
    unknownTypes: z.record(z.string(), z.number()).meta({ description: "pending events whose type this process does not know, by type: they wait for a worker that knows it" }),
  }),
  "The figures of the stats log line (`outbox-relay stats --json`)",
);

export const deadListResult = described(
  z.object({
    events: z.array(
      z.object({
        id: uuid,
        eventType: z.string(),
        aggregateType: z.string(),
        aggregateId: z.string(),
        attempts: z.number().int(),
        lastError: z.string().nullable(),
        createdAt: timestamp,
        ageMs: z.number(),
      }),
    ),
  }),
  "Dead events, oldest first (`outbox-relay dlq list --json`)",
);

export const retryResult = described(z.object({ retried: z.array(uuid) }), "The events sent back to pending");
export const skipResult = described(z.object({ skipped: z.array(uuid) }), "The events passed over (status skipped)");
export const replayResult = described(
  z.object({ type: z.string(), since: timestamp, until: timestamp, replayed: z.array(z.object({ originalId: uuid, copyId: uuid })) }),
  "The window replayed and each copy published",
);

export const deadLetterParams = z.object({ id: z.uuid("must be a UUID").meta({ description: "the dead event's id" }) });

export const deadLetterQuery = z.object({
  type: z.string().min(1).optional().meta({ description: "only events of this type" }),
  limit: pageLimit(1000, 100),
});

/** A replay's body: a type of the catalog and a window. */
export function replayBody(types: readonly string[]) {
  return z.object({
    type: z.enum(types),
    since: isoDateTime.meta({ description: "inclusive" }),
    until: isoDateTime.optional().meta({ description: "exclusive; default now" }),
  });
}
