import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { Database, sql } from "../../src/sql/index.ts";
import { createTestDatabase, databaseUrl, dropDatabase, onServer, uniqueName, waitFor } from "@outbox/testing";
import { migrate, MigrationError, readOutboxMigration, schemaStatus } from "../../src/index.ts";
import { migrateLockKey } from "../../src/schema/migrate.ts";
import { engineMigrations, migrationsDir } from "../../src/schema/migrations.ts";
import { probeMigrations } from "../../src/schema/schema-status.ts";

const names = engineMigrations.map((migration) => migration.name);
const created: string[] = [];
const scratch = mkdtempSync(path.join(os.tmpdir(), "outbox-migrations-"));

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  for (const name of created) await dropDatabase(name);
});

async function emptyDatabase(): Promise<string> {
  const name = uniqueName("outbox_migrate");
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  created.push(name);
  return databaseUrl(name);
}

/** Runs SQL text (many statements) on the database, outside migrate(). */
async function runSql(url: string, text: string): Promise<void> {
  const db = new Database(url, { poolSize: 1 });
  const connection = await db.connect();
  try {
    await connection.run(text);
  } finally {
    connection.release();
    await db.close();
  }
}

async function withDb<T>(url: string, work: (db: Database) => Promise<T>): Promise<T> {
  const db = new Database(url, { poolSize: 2 });
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

const fileOf = (name: string) => readFileSync(path.join(migrationsDir(), `${name}.sql`), "utf8");
const recorded = (url: string) => withDb(url, (db) => db.query<{ name: string }>(sql`SELECT name FROM outbox_relay_migrations ORDER BY name`)).then((rows) => rows.map((row) => row.name));

/** The schema as pg_dump prints it, without migrate()'s record table and dump-session noise. */
async function schemaOf(url: string): Promise<string> {
  const { stdout } = await promisify(execFile)("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", "--exclude-table=outbox_relay_migrations", url]);
  return stdout.split("\n").filter((line) => line && !/^(--|\\(un)?restrict)/.test(line)).join("\n");
}

/** A copy of the migrations folder with one file's text replaced. */
function migrationsWith(name: string, text: string): string {
  const dir = mkdtempSync(path.join(scratch, "dir-"));
  cpSync(migrationsDir(), dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.sql`), text);
  return dir;
}

describe("the migration files", () => {
  it("are the folder's files, in order, from the first released schema", () => {
    expect(readdirSync(migrationsDir()).sort()).toEqual(names.map((name) => `${name}.sql`));
    expect(names).toEqual([...names].sort());
    expect(fileOf(names[0]!)).toContain("CREATE TABLE IF NOT EXISTS event_outbox");
    expect(fileOf(names[0]!)).not.toContain("traceparent");
  });

  it("yield, applied in order, migration.sql's outbox tables (0001-0003), then the webhook tables; each runs again without harm", async () => {
    const [outbox, webhooks] = [names.slice(0, 3), names.slice(3)];
    const fromFiles = await emptyDatabase();
    for (const name of outbox) {
      await runSql(fromFiles, fileOf(name));
      await runSql(fromFiles, fileOf(name));
    }
    const fromToday = await emptyDatabase();
    await runSql(fromToday, readFileSync(new URL("../../migration.sql", import.meta.url), "utf8"));
    expect(await schemaOf(fromFiles)).toEqual(await schemaOf(fromToday));
    for (const name of webhooks) {
      await runSql(fromFiles, fileOf(name));
      await runSql(fromFiles, fileOf(name));
    }
    const tables = await withDb(fromFiles, (db) =>
      db.query<{ name: string }>(sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`),
    );
    expect(tables.map((table) => table.name)).toEqual(["event_outbox", "outbox_relay_cursor", "webhook_attempts", "webhook_endpoints"]);
    // readOutboxMigration() (deprecated) is every file, in order.
    expect(readOutboxMigration()).toBe(names.map(fileOf).join("\n"));
  });

  it("each is found lacking before it runs, and in effect after", async () => {
    const url = await emptyDatabase();
    await withDb(url, async (db) => {
      for (const [i, migration] of engineMigrations.entries()) {
        const later = engineMigrations.slice(i);
        if (migration.name === "0003_dispatched_rows_to_pending") {
          await db.execute(sql`INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, payload, status) VALUES ('T', 'a', '1', '{}', 'dispatched')`);
        }
        expect((await probeMigrations(db, later)).get(migration.name)).not.toEqual([]);
        await runSql(url, fileOf(migration.name));
        expect((await probeMigrations(db, engineMigrations.slice(0, i + 1))).get(migration.name)).toEqual([]);
      }
    });
  });
});

describe("migrate()", () => {
  it("applies every migration to an empty database and records them; then nothing is pending", async () => {
    const url = await emptyDatabase();
    expect(await migrate(url)).toEqual({ applied: names, baselined: [] });
    expect(await recorded(url)).toEqual(names);
    expect(await migrate(url)).toEqual({ applied: [], baselined: [] });
    expect(await withDb(url, (db) => schemaStatus(db))).toEqual({ source: "record", missing: [] });
  });

  it("runs on a Database the caller owns, and leaves it open", async () => {
    const url = await emptyDatabase();
    await withDb(url, async (db) => {
      expect((await migrate(db)).applied).toEqual(names);
      expect(await db.query(sql`SELECT count(*)::int AS n FROM outbox_relay_cursor`)).toEqual([{ n: 1 }]);
    });
  });

  it("baselines today's schema made without a record (the shop's Prisma migrations): records it, runs nothing", async () => {
    const shop = await createTestDatabase();
    created.push(shop.name);
    const before = await schemaOf(shop.url);
    expect(await withDb(shop.url, (db) => schemaStatus(db))).toEqual({ source: "probe", missing: [] });
    expect(await migrate(shop.url)).toEqual({ applied: [], baselined: names });
    expect(await recorded(shop.url)).toEqual(names);
    expect(await schemaOf(shop.url)).toEqual(before);
  });

  it("completes a partial schema from the first migration it lacks (no outbox_relay_cursor)", async () => {
    const url = await emptyDatabase();
    await runSql(url, readOutboxMigration());
    await runSql(url, "DROP TABLE outbox_relay_cursor");
    const status = await withDb(url, (db) => schemaStatus(db));
    expect(status.missing.map((migration) => migration.name)).toEqual([names[0], names[1]]);
    expect(status.missing[0]!.problems).toEqual(["no table outbox_relay_cursor"]);
    expect(await migrate(url)).toEqual({ applied: names, baselined: [] });
    expect(await withDb(url, (db) => schemaStatus(db))).toEqual({ source: "record", missing: [] });
  });

  it("refuses an applied migration whose file changed, naming it", async () => {
    const url = await emptyDatabase();
    await migrate(url);
    const changed = migrationsWith(names[1]!, `${fileOf(names[1]!)}\n-- an edit\n`);
    const error = (await migrate(url, { migrationsDir: changed }).catch((e: unknown) => e)) as MigrationError;
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.code).toBe("MIGRATION_CHANGED");
    expect(error.message).toContain(`migration ${names[1]} was applied as a different file`);
  });

  it("rolls a failing migration back, names it, and keeps the ones before it", async () => {
    const url = await emptyDatabase();
    const broken = migrationsWith(names[2]!, "UPDATE event_outbox SET status = 'pending';\nSELECT no_such_function();\n");
    const error = (await migrate(url, { migrationsDir: broken }).catch((e: unknown) => e)) as MigrationError;
    expect(error.code).toBe("MIGRATION_FAILED");
    expect(error.message).toBe(`migration ${names[2]} failed: function no_such_function() does not exist`);
    expect(await recorded(url)).toEqual(names.slice(0, 2));
    expect(await migrate(url)).toEqual({ applied: names.slice(2), baselined: [] });
  });

  it("two processes migrating at once: one applies, the other waits for its lock and finds nothing to do", async () => {
    const url = await emptyDatabase();
    const results = await Promise.all([migrate(url), migrate(url)]);
    expect(results.map((result) => result.applied).sort()).toEqual([[], names]);
    expect(await recorded(url)).toEqual(names);
  });

  it("waits while another session holds the lock, and runs once it is free", async () => {
    const url = await emptyDatabase();
    await withDb(url, async (db) => {
      const holder = await db.connect();
      await holder.execute(sql`SELECT pg_advisory_lock(${migrateLockKey}::bigint)`);
      let done = false;
      const migrating = migrate(url).then((result) => ((done = true), result));
      await waitFor(async () => (await db.query(sql`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'`)).length > 0, {
        message: "migrate() to wait for the advisory lock",
      });
      expect(done).toBe(false);
      expect(await db.query(sql`SELECT to_regclass('event_outbox') AS t`)).toEqual([{ t: null }]);
      await holder.execute(sql`SELECT pg_advisory_unlock(${migrateLockKey}::bigint)`);
      holder.release();
      expect((await migrating).applied).toEqual(names);
    });
  });
});
