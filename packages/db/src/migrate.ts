import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";

/** prisma/migrations of the repository this module runs from: its source (src/) or a bundle (dist/). */
export const migrationsDir = findUp(import.meta.dirname, "prisma/migrations");

function findUp(from: string, relative: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, relative))) return path.join(dir, relative);
    if (path.dirname(dir) === dir) throw new Error(`no ${relative} above ${from}`);
  }
}

/** Prisma Migrate's own bookkeeping table, created exactly as `prisma migrate deploy` creates it. */
const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** The advisory lock key Prisma Migrate takes, so that it and this runner never apply at once. */
const migrateLockKey = 72707369;

export class MigrationError extends Error {
  readonly code = "MIGRATION_FAILED";
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = migrationsDir): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(path.join(dir, name, "migration.sql"));
      return { name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") };
    }),
  );
}

/** Creates the database named in the URL when the server does not have it yet. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) throw new MigrationError("DATABASE_URL names no database");
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return true;
    } catch (error) {
      // Another process created it meanwhile: 42P04 duplicate_database, or 23505 from the catalog.
      if (["42P04", "23505"].includes((error as { code?: string }).code ?? "")) return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

export interface MigrateResult {
  /** The database migrated: its name and server, never its credentials. */
  database: { name: string; server: string };
  created: boolean;
  applied: string[];
}

/** The database a URL names, and its server as host:port (the URL's credentials left out). */
export function describeDatabase(databaseUrl: string): MigrateResult["database"] {
  const url = new URL(databaseUrl);
  const host = url.hostname || url.searchParams.get("host") || "localhost";
  return { name: decodeURIComponent(url.pathname.slice(1)), server: `${host}:${url.port || "5432"}` };
}

/** Applies pending migrations in order, each in its own transaction, recorded as Prisma records them. */
export async function migrate(databaseUrl: string, dir = migrationsDir): Promise<MigrateResult> {
  const created = await ensureDatabase(databaseUrl);
  const migrations = await readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SET client_min_messages = warning");
    await client.query("SELECT pg_advisory_lock($1)", [migrateLockKey]);
    await client.query(createMigrationsTable);
    const applied = await appliedMigrations(client);
    const done: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.name)) continue;
      await apply(client, migration);
      done.push(migration.name);
    }
    return { database: describeDatabase(databaseUrl), created, applied: done };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [migrateLockKey]).catch(() => undefined);
    await client.end();
  }
}

async function appliedMigrations(client: pg.Client): Promise<Set<string>> {
  const { rows } = await client.query<{ migration_name: string; finished_at: Date | null }>(
    `SELECT migration_name, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
  );
  const failed = rows.find((row) => row.finished_at === null);
  if (failed) {
    throw new MigrationError(
      `migration ${failed.migration_name} started but did not finish; resolve it (prisma migrate resolve) before migrating again`,
    );
  }
  return new Set(rows.map((row) => row.migration_name));
}

async function apply(client: pg.Client, migration: Migration): Promise<void> {
  try {
    await client.query("BEGIN");
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}
