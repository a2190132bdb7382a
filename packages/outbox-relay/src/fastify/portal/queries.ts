import { query, type Executor } from "../../events/index.ts";
import { sql } from "../../sql/index.ts";

/**
 * messageTypes: $1 delivery event ids. The `type` each WebhookDelivery told its receiver
 * (`order.created`, `webhook.test`), by event id; primary key reads, no lock. A delivery that
 * retention removed is missing from the map.
 */
export async function messageTypes(db: Executor, eventIds: readonly string[]): Promise<Map<string, string>> {
  if (eventIds.length === 0) return new Map();
  const rows = await query<{ id: string; type: string }>(
    db,
    sql`SELECT id::text AS id, payload->>'type' AS type FROM event_outbox
        WHERE id = ANY(${[...new Set(eventIds)]}::uuid[]) AND event_type = 'WebhookDelivery'`,
  );
  return new Map(rows.map((row) => [row.id, row.type]));
}
