import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { sql, type Statement } from "../sql/index.ts";
import type { AnyNewEvent, EventCatalog, Schemas } from "./define.ts";
import { execute, type Executor } from "./executor.ts";
import { activeTraceparent } from "./trace-context.ts";

export interface NewEvent<S extends Schemas = Schemas, T extends keyof S & string = keyof S & string> {
  type: T;
  payload: z.input<S[T]>;
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
  /** Defaults to its type's policy: whether it waits for the earlier events of its aggregate (a bulk resend keeps its messages in order). */
  ordered?: boolean;
}

/**
 * Writes events into the outbox inside the caller's transaction: they exist exactly when the
 * caller's business change commits. Every payload is checked against its schema first; one that
 * fails throws InvalidEventError before anything is written, and the caller's transaction rolls
 * back with it. One statement however many events, in the given order (their `sequence` order).
 */
export async function publishEvents(catalog: EventCatalog, executor: Executor, events: readonly AnyNewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const { statement, ids } = publishStatement(catalog, events);
  await execute(executor, statement);
  return ids;
}

/** The INSERT that publishes these events (checked against their schemas now); see EventCatalog.publishStatement. */
export function publishStatement(catalog: EventCatalog, events: readonly AnyNewEvent[], { onlyIf }: { onlyIf?: Statement } = {}): { statement: Statement; ids: string[] } {
  const rows = events.map((event) => toRow(catalog, event));
  return { statement: insertEvents(rows, onlyIf ?? sql`true`, activeTraceparent()), ids: rows.map((row) => row.id) };
}

interface OutboxRowInput {
  id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id: string | null;
  payload: unknown;
  available_at: string | null;
  causation_id: string | null;
  ordered: boolean;
}

/**
 * insertEvents: the rows as one JSON array (one parameter, parsed once by Postgres, whatever the
 * count), a condition, and the active span's traceparent, one for every row (null without one).
 * WITH ORDINALITY keeps the caller's order, which `sequence` records.
 * Defaults fill the rest: status pending, created_at and available_at now, transaction_id this
 * transaction.
 */
function insertEvents(rows: OutboxRowInput[], onlyIf: Statement, traceparent: string | null): Statement {
  return sql`
    INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, tenant_id, payload, available_at, causation_id, traceparent, ordered)
    SELECT (r->>'id')::uuid, r->>'event_type', r->>'aggregate_type', r->>'aggregate_id', r->>'tenant_id', r->'payload',
      coalesce((r->>'available_at')::timestamptz, now()), (r->>'causation_id')::uuid, ${traceparent}::text,
      (r->>'ordered')::boolean
    FROM jsonb_array_elements(${JSON.stringify(rows)}::jsonb) WITH ORDINALITY AS e(r, n)
    WHERE ${onlyIf}
    ORDER BY e.n`;
}

function toRow(catalog: EventCatalog, event: AnyNewEvent): OutboxRowInput {
  const payload = catalog.parse(event.type, event.payload) as Record<string, unknown>;
  const aggregate = event.aggregate ?? catalog.aggregateOf(event.type, payload);
  const tenantId = event.tenantId !== undefined ? event.tenantId : typeof payload.tenantId === "string" ? payload.tenantId : null;
  return {
    id: event.id ?? randomUUID(),
    event_type: event.type,
    aggregate_type: aggregate.type,
    aggregate_id: aggregate.id,
    tenant_id: tenantId,
    payload,
    available_at: event.availableAt?.toISOString() ?? null,
    causation_id: event.causationId ?? null,
    ordered: event.ordered ?? catalog.policyOf(event.type).ordered,
  };
}
