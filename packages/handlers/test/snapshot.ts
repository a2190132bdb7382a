import { raw, sql, type Database } from "outbox-relay/sql";

export type Snapshot = Record<string, unknown[]>;

export interface SnapshotOptions {
  /**
   * Columns whose value differs from run to run (times from now(), ids from gen_random_uuid(), a
   * delivery's occurredAt): kept only as whether they are set.
   */
  volatile?: readonly string[];
}

/** Every domain table's rows as JSON in a stable order, and the outbox's events. */
export async function snapshot(db: Database, { volatile = [] }: SnapshotOptions = {}): Promise<Snapshot> {
  const tables = await db.query<{ name: string }>(sql`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
      AND table_name NOT IN ('event_outbox', 'outbox_relay_cursor', '_prisma_migrations')
    ORDER BY table_name`);
  const result: Snapshot = {};
  for (const { name } of tables) {
    const rows = await db.query<{ row: Record<string, unknown> }>(sql`SELECT to_jsonb(t) AS row FROM ${raw(`"${name}"`)} t`);
    result[name] = stable(rows.map(({ row }) => reduce(row, volatile)));
  }
  const events = await db.query<{ row: Record<string, unknown> & { payload: Record<string, unknown> } }>(sql`
    SELECT jsonb_build_object('id', id, 'eventType', event_type, 'status', status, 'attempts', attempts, 'lastError', last_error,
      'causationId', causation_id, 'tenantId', tenant_id, 'aggregateId', aggregate_id, 'payload', payload) AS row
    FROM event_outbox`);
  result.event_outbox = stable(events.map(({ row }) => reduce({ ...row, payload: reduce(row.payload, volatile) }, volatile)));
  return result;
}

function reduce<T extends Record<string, unknown>>(row: T, volatile: readonly string[]): T {
  const reduced: Record<string, unknown> = { ...row };
  for (const column of volatile) if (column in reduced) reduced[column] = reduced[column] !== null;
  return reduced as T;
}

function stable(rows: unknown[]): unknown[] {
  return rows.map((row) => [JSON.stringify(row), row] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
