import { raw, sql, type Statement } from "../sql/index.ts";

/** An outbox row as the relay, the rescuer and the release of a held event read it to queue its job. */
export interface OutboxEvent {
  id: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  tenant_id: string | null;
  payload: unknown;
  attempts: number;
  created_at: Date;
  available_at: Date;
  /** The publishing span's W3C traceparent, or null. */
  traceparent: string | null;
}

/** The columns of an OutboxEvent, from the row aliased `o`. */
export const eventColumns: Statement = raw(
  "o.id::text AS id, o.event_type, o.aggregate_type, o.aggregate_id, o.tenant_id, o.payload, o.attempts, o.created_at, o.available_at, o.traceparent",
);

/**
 * heldBehindEarlier: true when the row `o` must wait: its type is ordered and an earlier event of
 * an ordered type of its aggregate is unfinished (pending, or dead until an admin retries or skips
 * it). Events of unordered types neither wait nor hold anything up. One probe of
 * event_outbox_aggregate_open_idx.
 */
export function heldBehindEarlier(unorderedTypes: readonly string[]): Statement {
  return sql`(NOT (o.event_type = ANY(${unorderedTypes}::text[])) AND EXISTS (
    SELECT 1 FROM event_outbox earlier
    WHERE earlier.aggregate_type = o.aggregate_type AND earlier.aggregate_id = o.aggregate_id
      AND earlier.status IN ('pending', 'dead') AND earlier.sequence < o.sequence
      AND NOT (earlier.event_type = ANY(${unorderedTypes}::text[]))))`;
}
