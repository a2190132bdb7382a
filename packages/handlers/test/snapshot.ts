import { raw, sql, type Database } from "@outbox/sql";

export type Snapshot = Record<string, unknown[]>;

export interface SnapshotOptions {
  /** Columns to leave out of every row (times set by now(), ids made by gen_random_uuid()). */
  omit?: readonly string[];
}

/** Every domain table's rows as JSON in a stable order, and the outbox's events. */
export async function snapshot(db: Database, { omit = [] }: SnapshotOptions = {}): Promise<Snapshot> {
  const tables = await db.query<{ name: string }>(sql`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
      AND table_name NOT IN ('event_outbox', 'outbox_relay_cursor', '_prisma_migrations')
    ORDER BY table_name`);
  const result: Snapshot = {};
  for (const { name } of tables) {
    const rows = await db.query<{ row: unknown }>(sql`
      SELECT to_jsonb(t) - ${omit}::text[] AS row FROM ${raw(`"${name}"`)} t ORDER BY 1`);
    result[name] = rows.map((r) => r.row);
  }
  result.event_outbox = await outboxEvents(db, omit);
  return result;
}

/** The outbox's events, with what the handlers published; ordered by content when ids are left out. */
async function outboxEvents(db: Database, omit: readonly string[]): Promise<unknown[]> {
  const rows = await db.query<{ row: unknown }>(sql`
    SELECT jsonb_build_object('id', id, 'eventType', event_type, 'status', status, 'causationId', causation_id, 'tenantId', tenant_id,
      'aggregateId', aggregate_id, 'payload', payload - ${omit}::text[]) - ${omit}::text[] AS row
    FROM event_outbox ORDER BY 1`);
  return rows.map((r) => r.row);
}
