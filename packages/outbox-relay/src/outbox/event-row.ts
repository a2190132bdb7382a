import { raw, type Statement } from "../sql/index.ts";

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
  /** Whether it takes part in its aggregate's order (its type's policy when published). */
  ordered: boolean;
}

/** The columns of an OutboxEvent, from the row aliased `o`. */
export const eventColumns: Statement = raw(
  "o.id::text AS id, o.event_type, o.aggregate_type, o.aggregate_id, o.tenant_id, o.payload, o.attempts, o.created_at, o.available_at, o.traceparent, o.ordered",
);
