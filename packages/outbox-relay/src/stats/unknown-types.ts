import type { Logger } from "../logger/index.ts";
import { sql, type Queryable } from "../sql/index.ts";
import { exactCountLimit } from "./outbox-counts.ts";

/**
 * countUnknownTypes: pending events whose type is not one of `knownTypes`, by type, among the
 * oldest `limit` pending rows: they wait for a worker whose catalog has their type (a producer
 * deployed before the workers). Reads event_outbox_relay_idx in order, so its cost is bounded by
 * `limit` whatever the backlog. Plain reads, no locks.
 */
export async function countUnknownTypes(db: Queryable, knownTypes: readonly string[], limit = exactCountLimit): Promise<Record<string, number>> {
  const rows = await db.query<{ event_type: string; waiting: number }>(sql`
    SELECT p.event_type, count(*)::int AS waiting
    FROM (SELECT event_type FROM event_outbox WHERE status = 'pending' ORDER BY transaction_id, sequence LIMIT ${limit}) p
    WHERE NOT (p.event_type = ANY(${knownTypes}::text[]))
    GROUP BY p.event_type
    ORDER BY p.event_type`);
  return Object.fromEntries(rows.map((row) => [row.event_type, row.waiting]));
}

/** One warning per unknown type (the stats line calls it once per interval): never one per event. */
export function warnUnknownTypes(logger: Logger, unknownTypes: Record<string, number>): void {
  for (const [eventType, waiting] of Object.entries(unknownTypes)) {
    logger.warn({ eventType, waiting }, "pending events of a type this worker does not know wait for a worker that knows it (deploy workers before producers)");
  }
}
