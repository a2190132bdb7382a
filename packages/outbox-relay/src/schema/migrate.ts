import { Connection, Database, sql } from "../sql/index.ts";
import { createRecordTable, readRecord, recordMigration } from "./migration-record.ts";
import { engineMigrations, readMigrationFiles, type MigrationFile } from "./migrations.ts";
import { probeMigrations } from "./schema-status.ts";

/** The session advisory lock migrate() holds while it runs ("outbox" in ASCII): two processes migrate one at a time. */
export const migrateLockKey = 0x6f7574626f78;

export type MigrationErrorCode = "MIGRATION_CHANGED" | "MIGRATION_FAILED";

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "MigrationError";
  }
}

export interface MigrateOptions {
  /** Where the SQL files are; default: the package's migrations folder. */
  migrationsDir?: string;
}

export interface MigrateResult {
  /** Migrations run now, in order. */
  applied: string[];
  /** Migrations found in effect in a database that had no record (its tables made by another tool), recorded without running. */
  baselined: string[];
}

/**
 * Applies the engine's pending migrations in order, each in a transaction, under an advisory lock,
 * and records each in outbox_relay_migrations (name, checksum, applied_at). A database without that
 * record is probed first: the migrations in effect up to the first one that is not are recorded as
 * they are (baselined), the rest run (each file runs again without harm over a partial schema).
 * An applied file whose text changed since is a MigrationError naming it; nothing runs then.
 */
export async function migrate(database: string | Database, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files = await readMigrationFiles(options.migrationsDir);
  const db = typeof database === "string" ? new Database(database, { poolSize: 1, applicationName: "outbox-relay migrate" }) : database;
  try {
    const connection = await db.connect();
    try {
      await connection.execute(sql`SELECT pg_advisory_lock(${migrateLockKey}::bigint)`);
      return await applyPending(connection, files);
    } finally {
      // Fails only with the connection, whose session's lock goes with it.
      await connection.execute(sql`SELECT pg_advisory_unlock(${migrateLockKey}::bigint)`).catch(() => undefined);
      connection.release();
    }
  } finally {
    if (typeof database === "string") await db.close();
  }
}

async function applyPending(connection: Connection, files: MigrationFile[]): Promise<MigrateResult> {
  await connection.run(createRecordTable);
  const recorded = await readRecord(connection);
  refuseChanged(files, recorded);
  const pending = files.filter((file) => !recorded.has(file.name));
  const baselined = recorded.size === 0 ? await inEffect(connection, pending) : [];
  for (const file of baselined) await recordMigration(connection, file);
  const applied: string[] = [];
  for (const file of pending.slice(baselined.length)) {
    await apply(connection, file);
    applied.push(file.name);
  }
  return { applied, baselined: baselined.map((file) => file.name) };
}

function refuseChanged(files: MigrationFile[], recorded: Map<string, string>): void {
  const changed = files.find((file) => recorded.has(file.name) && recorded.get(file.name) !== file.checksum);
  if (!changed) return;
  throw new MigrationError(
    "MIGRATION_CHANGED",
    `migration ${changed.name} was applied as a different file (checksum ${recorded.get(changed.name)}, now ${changed.checksum}): a released migration must not change; restore the file`,
  );
}

/** The files whose effect the schema already has, up to the first one whose effect it lacks. */
async function inEffect(connection: Connection, files: MigrationFile[]): Promise<MigrationFile[]> {
  const problems = await probeMigrations(connection, engineMigrations.filter(({ name }) => files.some((file) => file.name === name)));
  const firstLacking = files.findIndex((file) => problems.get(file.name)!.length > 0);
  return firstLacking === -1 ? files : files.slice(0, firstLacking);
}

async function apply(connection: Connection, file: MigrationFile): Promise<void> {
  try {
    await connection.run("BEGIN");
    await connection.run(file.sql);
    await recordMigration(connection, file);
    await connection.run("COMMIT");
  } catch (error) {
    await connection.run("ROLLBACK").catch(() => undefined);
    throw new MigrationError("MIGRATION_FAILED", `migration ${file.name} failed: ${(error as Error).message}`, { cause: error });
  }
}
