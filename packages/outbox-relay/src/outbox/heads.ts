import { sql } from "../sql/index.ts";
import { query, type Executor } from "../events/index.ts";
import { eventColumns, type OutboxEvent } from "./event-row.ts";
import { openOrderedOf } from "./read-rules.ts";

export interface AggregateRef {
  aggregateType: string;
  aggregateId: string;
}

/**
 * findRunnableHeads: for each aggregate, its earliest unfinished event of an ordered type when that
 * event is pending (not dead), i.e. the one ordered event of the aggregate that may run now. Called when an event finishes
 * or leaves the dead-letter queue, to queue the event it was holding back. One probe of
 * event_outbox_aggregate_open_idx per aggregate; plain reads, no locks.
 */
export async function findRunnableHeads(executor: Executor, aggregates: readonly AggregateRef[]): Promise<OutboxEvent[]> {
  if (aggregates.length === 0) return [];
  const unique = [...new Map(aggregates.map((a) => [`${a.aggregateType}\u0000${a.aggregateId}`, a])).values()];
  return query<OutboxEvent>(
    executor,
    sql`
      SELECT ${eventColumns}
      FROM unnest(${unique.map((a) => a.aggregateType)}::text[], ${unique.map((a) => a.aggregateId)}::text[]) AS a(aggregate_type, aggregate_id)
      CROSS JOIN LATERAL (
        SELECT * FROM event_outbox e
        WHERE ${openOrderedOf("e", "a")}
        ORDER BY e.sequence
        LIMIT 1) o
      WHERE o.status = 'pending'`,
  );
}
