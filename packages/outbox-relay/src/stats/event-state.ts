import { sql, type Queryable } from "../sql/index.ts";
import { defaultRelayCursor, isDispatched } from "../outbox/index.ts";

/** One outbox event as on-call reads it (GET /api/events/:id). */
export interface EventState {
  id: string;
  type: string;
  /** pending → dispatched → processed (or dead, skipped); `dispatched` as isDispatched reads it. */
  status: string;
  attempts: number;
  lastError: string | null;
  aggregateType: string;
  aggregateId: string;
  tenantId: string | null;
  causationId: string | null;
  payload: unknown;
  availableAt: Date;
  createdAt: Date;
  dispatchedAt: Date | null;
  processedAt: Date | null;
}

/**
 * readEventState: one event by id, with the status the pipeline gives it: a pending row the relay
 * has passed and that is not held reads `dispatched` (no row is written `dispatched` any more).
 * $1 the event id (a UUID). Reads the primary key, the relay's cursor row and, for a pending row,
 * one probe of event_outbox_aggregate_open_idx. Plain reads, no locks.
 */
export async function readEventState(db: Queryable, id: string): Promise<EventState | undefined> {
  const [row] = await db.query<EventState>(sql`
    SELECT o.id::text AS id, o.event_type AS type,
      CASE WHEN ${isDispatched} THEN 'dispatched' ELSE o.status END AS status,
      o.attempts, o.last_error AS "lastError", o.aggregate_type AS "aggregateType", o.aggregate_id AS "aggregateId",
      o.tenant_id AS "tenantId", o.causation_id::text AS "causationId", o.payload, o.available_at AS "availableAt",
      o.created_at AS "createdAt", o.dispatched_at AS "dispatchedAt", o.processed_at AS "processedAt"
    FROM event_outbox o
    LEFT JOIN outbox_relay_cursor c ON c.name = ${defaultRelayCursor}
    WHERE o.id = ${id}::uuid`);
  return row;
}
