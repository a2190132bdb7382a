import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql, type Statement } from "../sql/index.ts";

/** A fact about rows that a migration leaves, which the catalog cannot show. */
export interface RowFact {
  /** What is wrong while it does not hold, for on-call: "rows in status dispatched". */
  problem: string;
  /** One row, `holds` boolean. */
  holds: Statement;
}

/** One file of the package's migrations folder, and how to tell that its effect is in a database. */
export interface EngineMigration {
  /** The file's name without `.sql`: its number, then what it does. */
  name: string;
  /** The catalog objects it leaves: "table …", "column event_outbox.traceparent", "index …", "trigger …". */
  objects: readonly string[];
  rows: readonly RowFact[];
}

const columns = (table: string, names: string[]) => names.map((name) => `column ${table}.${name}`);
const indexes = (names: string[]) => names.map((name) => `index ${name}`);

/**
 * The engine's migrations, in order: one per change of its tables since the first released
 * version. A new one is a new file in migrations/ and an entry here; a released file never changes.
 */
export const engineMigrations: readonly EngineMigration[] = [
  {
    name: "0001_outbox_tables",
    objects: [
      "table event_outbox",
      "table outbox_relay_cursor",
      ...columns("event_outbox", [
        "id", "sequence", "event_type", "aggregate_type", "aggregate_id", "tenant_id", "payload", "status", "attempts",
        "causation_id", "available_at", "created_at", "dispatched_at", "processed_at", "last_error", "transaction_id",
      ]),
      ...columns("outbox_relay_cursor", ["name", "transaction_id", "sequence", "watched", "updated_at"]),
      ...indexes([
        "event_outbox_relay_idx", "event_outbox_aggregate_open_idx", "event_outbox_aggregate_idx", "event_outbox_caused_by_idx",
        "event_outbox_dead_idx", "event_outbox_finished_idx", "event_outbox_processed_type_idx", "event_outbox_sequence_idx",
        "event_outbox_skipped_idx", "event_outbox_tenant_idx", "event_outbox_type_idx",
      ]),
      "trigger event_outbox_notify_insert",
    ],
    rows: [],
  },
  {
    name: "0002_traceparent_and_relay_cursor_row",
    objects: columns("event_outbox", ["traceparent"]),
    rows: [{ problem: "no row 'default' in outbox_relay_cursor", holds: sql`SELECT EXISTS (SELECT FROM outbox_relay_cursor WHERE name = 'default') AS holds` }],
  },
  {
    name: "0003_dispatched_rows_to_pending",
    objects: [],
    rows: [{ problem: "rows in status dispatched", holds: sql`SELECT NOT EXISTS (SELECT FROM event_outbox WHERE status = 'dispatched') AS holds` }],
  },
  {
    name: "0004_webhook_tables",
    objects: [
      "table webhook_endpoints",
      "table webhook_attempts",
      ...columns("webhook_endpoints", [
        "id", "tenant_id", "url", "events", "secret_encrypted", "previous_secret_encrypted", "previous_secret_expires_at",
        "enabled", "disabled_reason", "consecutive_failures", "created_at", "updated_at",
      ]),
      ...columns("webhook_attempts", ["id", "endpoint_id", "event_id", "webhook_id", "attempt", "status_code", "duration_ms", "error", "response_body", "created_at"]),
      ...indexes(["webhook_endpoints_tenant_id_idx", "webhook_attempts_endpoint_id_created_at_id_idx", "webhook_attempts_event_id_idx"]),
    ],
    rows: [],
  },
  {
    name: "0005_event_ordered_column",
    objects: columns("event_outbox", ["ordered"]),
    rows: [],
  },
  {
    name: "0006_webhook_schedule_and_breaker",
    objects: columns("webhook_endpoints", [
      "retry_schedule", "failing_since", "last_success_at", "last_failure_at", "breaker_open_until", "breaker_trips", "disabled_at",
    ]),
    rows: [],
  },
];

/**
 * The folder of the SQL files: beside src/ in the workspace, beside dist/ in the package. A bundle
 * of this repository's apps (apps/cli/dist) finds the workspace's above itself.
 */
export function migrationsDir(): string {
  const beside = fileURLToPath(new URL("../../migrations", import.meta.url));
  if (existsSync(beside)) return beside;
  for (let dir = import.meta.dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const inWorkspace = path.join(dir, "packages/outbox-relay/migrations");
    if (existsSync(inWorkspace)) return inWorkspace;
  }
  throw new Error(`no migrations folder beside ${import.meta.dirname}: pass migrationsDir`);
}

export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 of the file's bytes, hex: a released file never changes. */
  checksum: string;
}

export async function readMigrationFiles(dir = migrationsDir()): Promise<MigrationFile[]> {
  return Promise.all(
    engineMigrations.map(async ({ name }) => {
      const bytes = await readFile(path.join(dir, `${name}.sql`));
      return { name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") };
    }),
  );
}
