import { sql, type Queryable } from "../sql/index.ts";

/** migrate()'s own bookkeeping: one row per migration applied (or found in effect) in this database. */
export const createRecordTable = `
CREATE TABLE IF NOT EXISTS outbox_relay_migrations (
    name text NOT NULL PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamp(6) with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL
)`;

/** The recorded migrations, name → checksum; empty when the table is absent (the schema made by another tool). */
export async function readRecord(db: Queryable): Promise<Map<string, string>> {
  const [table] = await db.query<{ present: boolean }>(sql`SELECT to_regclass('outbox_relay_migrations') IS NOT NULL AS present`);
  if (!table?.present) return new Map();
  const rows = await db.query<{ name: string; checksum: string }>(sql`SELECT name, checksum FROM outbox_relay_migrations ORDER BY name`);
  return new Map(rows.map((row) => [row.name, row.checksum]));
}

export async function recordMigration(db: Queryable, migration: { name: string; checksum: string }): Promise<void> {
  await db.execute(sql`INSERT INTO outbox_relay_migrations (name, checksum) VALUES (${migration.name}, ${migration.checksum})`);
}
