import { defaultRelayCursor, heldBehindEarlier, heldByDead, holdsLater, isDispatched, openOrderedOf } from "../../outbox/index.ts";
import { empty, join, raw, sql, type Queryable, type Statement } from "../../sql/index.ts";

/** The statuses a row is stored with, as the page filters them (a pending row reads `dispatched` once its job is in Redis). */
export const listableStatuses = ["pending", "processed", "dead", "skipped"] as const;
export type ListableStatus = (typeof listableStatuses)[number];

export interface EventFilters {
  status?: ListableStatus | undefined;
  type?: string | undefined;
  aggregateType?: string | undefined;
  aggregateId?: string | undefined;
  tenantId?: string | undefined;
  /** The events this event caused (its handler's follow-ups, a replay's copies). */
  causedBy?: string | undefined;
}

/** One event in a list: everything but its payload. */
export interface EventSummary {
  id: string;
  /** The outbox's order (bigserial), as text: the page's cursor. */
  sequence: string;
  type: string;
  aggregateType: string;
  aggregateId: string;
  tenantId: string | null;
  /** As GET /api/events/:id reports it: a pending row the relay has passed and that is not held reads `dispatched`. */
  status: string;
  attempts: number;
  lastError: string | null;
  causationId: string | null;
  createdAt: Date;
  processedAt: Date | null;
}

export interface EventPage {
  events: EventSummary[];
  /** The `before` cursor of the next (older) page; null on the last page. */
  next: string | null;
}

/**
 * Status conditions as literals, not parameters: a prepared statement's generic plan must not
 * pick one index for every status. `dead`, `skipped` and `pending` read their partial indexes
 * (few rows, sorted), `processed` reads event_outbox_sequence_idx backwards.
 */
const statusConditions: Record<ListableStatus, Statement> = {
  pending: raw("o.status = 'pending'"),
  processed: raw("o.status = 'processed'"),
  dead: raw("o.status = 'dead'"),
  skipped: raw("o.status = 'skipped'"),
};

const summaryColumns = raw(`o.id::text AS id, o.sequence::text AS sequence, o.event_type AS type, o.aggregate_type AS "aggregateType",
  o.aggregate_id AS "aggregateId", o.tenant_id AS "tenantId", o.attempts, o.last_error AS "lastError",
  o.causation_id::text AS "causationId", o.created_at AS "createdAt", o.processed_at AS "processedAt"`);

/**
 * listEvents: one page of events, newest first by sequence, after the cursor `before` (older
 * than it), each filter optional. The inner query reads one index in order and stops at the page:
 * event_outbox_aggregate_idx (aggregate_id, sequence), event_outbox_tenant_idx,
 * event_outbox_type_idx, event_outbox_caused_by_idx, or event_outbox_sequence_idx alone; a rare
 * status reads its partial index. The outer query adds the status as on-call reads it (one join
 * of the relay's cursor row, one probe of event_outbox_aggregate_open_idx per pending row).
 * Plain reads, no locks. Never OFFSET: a page costs the same at the millionth row.
 */
export async function listEvents(
  db: Queryable,
  filters: EventFilters,
  { before, limit }: { before?: string | undefined; limit: number },
): Promise<EventPage> {
  const conditions: Statement[] = [];
  if (filters.status) conditions.push(statusConditions[filters.status]);
  if (filters.type) conditions.push(sql`o.event_type = ${filters.type}`);
  if (filters.aggregateType) conditions.push(sql`o.aggregate_type = ${filters.aggregateType}`);
  if (filters.aggregateId) conditions.push(sql`o.aggregate_id = ${filters.aggregateId}`);
  if (filters.tenantId) conditions.push(sql`o.tenant_id = ${filters.tenantId}`);
  if (filters.causedBy) conditions.push(sql`o.causation_id = ${filters.causedBy}::uuid AND o.causation_id IS NOT NULL`);
  if (before) conditions.push(sql`o.sequence < ${before}::bigint`);
  const where = conditions.length > 0 ? sql`WHERE ${join(conditions, " AND ")}` : empty;
  const rows = await db.query<EventSummary>(sql`
    SELECT ${summaryColumns}, CASE WHEN ${isDispatched} THEN 'dispatched' ELSE o.status END AS status
    FROM (
      SELECT o.id, o.sequence, o.transaction_id, o.event_type, o.aggregate_type, o.aggregate_id, o.tenant_id, o.status,
        o.attempts, o.last_error, o.causation_id, o.created_at, o.processed_at, o.ordered
      FROM event_outbox o
      ${where}
      ORDER BY o.sequence DESC
      LIMIT ${limit + 1}) o
    LEFT JOIN outbox_relay_cursor c ON c.name = ${defaultRelayCursor}
    ORDER BY o.sequence DESC`);
  const events = rows.slice(0, limit);
  return { events, next: rows.length > limit ? events.at(-1)!.sequence : null };
}

/** The event that holds a pending one back: the earliest unfinished (pending or dead) event before it in its aggregate. */
export interface Holder {
  id: string;
  type: string;
  status: string;
}

/**
 * holderOf: for a pending event of an ordered type, the earliest earlier event of an ordered type
 * of its aggregate that is pending or dead (the head its aggregate waits on); none when it is free to run. One
 * probe of event_outbox_aggregate_open_idx; plain reads, no locks.
 */
export async function holderOf(db: Queryable, id: string): Promise<Holder | undefined> {
  const [row] = await db.query<Holder>(sql`
    SELECT h.id::text AS id, h.event_type AS type, h.status
    FROM event_outbox o
    CROSS JOIN LATERAL (
      SELECT e.id, e.event_type, e.status FROM event_outbox e
      WHERE ${openOrderedOf("e", "o")} AND e.sequence < o.sequence
      ORDER BY e.sequence
      LIMIT 1) h
    WHERE o.id = ${id}::uuid AND o.status = 'pending' AND ${heldBehindEarlier}`);
  return row;
}

/** An aggregate held back by a dead event, and what holds it. */
export interface HeldAggregate {
  aggregateType: string;
  aggregateId: string;
  tenantId: string | null;
  /** The dead event that holds it. */
  deadId: string;
  deadType: string;
  lastError: string | null;
  attempts: number;
  deadSince: Date;
  /** Pending events of ordered types behind it (counted up to `heldCountLimit`). */
  heldEvents: number;
}

/** Held events are counted up to this many per aggregate (the page says "at least"). */
export const heldCountLimit = 1000;

/**
 * heldAggregates: dead events that hold back later pending events of their aggregate (as the
 * stats' heldAggregates counts them), oldest first, at most `limit`. Walks event_outbox_dead_idx in
 * order with one probe of event_outbox_aggregate_open_idx each and stops at the limit; the count
 * of held events per aggregate is bounded. Plain reads, no locks.
 */
export async function heldAggregates(db: Queryable, limit: number): Promise<HeldAggregate[]> {
  return db.query<HeldAggregate>(sql`
    SELECT d.aggregate_type AS "aggregateType", d.aggregate_id AS "aggregateId", d.tenant_id AS "tenantId", d.id::text AS "deadId",
      d.event_type AS "deadType", d.last_error AS "lastError", d.attempts, d.created_at AS "deadSince",
      (SELECT count(*)::int FROM (
         SELECT 1 FROM event_outbox later
         WHERE ${heldByDead}
         LIMIT ${heldCountLimit}) h) AS "heldEvents"
    FROM event_outbox d
    WHERE ${holdsLater}
    ORDER BY d.created_at, d.id
    LIMIT ${limit}`);
}
