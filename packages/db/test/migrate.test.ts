import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { databaseUrl, dropDatabase, serverUrl, uniqueName } from "@outbox/testing";
import { migrate, migrationsDir, readMigrations } from "../src/index.ts";

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("migrate", () => {
  it("creates a missing database, applies every migration, and a second run changes nothing", async () => {
    const name = uniqueName("outbox_migrate");
    created.push(name);
    const url = databaseUrl(name);
    const migrations = await readMigrations();

    const first = await migrate(url);
    expect(first.created).toBe(true);
    expect(first.applied).toEqual(migrations.map((m) => m.name));

    const second = await migrate(url);
    expect(second).toEqual({ database: { name, server: new URL(serverUrl).host }, created: false, applied: [] });

    const rows = await query<{ migration_name: string; checksum: string; applied_steps_count: number; finished_at: Date | null }>(
      url,
      `SELECT migration_name, checksum, applied_steps_count, finished_at FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows).toHaveLength(migrations.length);
    for (const [index, row] of rows.entries()) {
      const bytes = await readFile(path.join(migrationsDir, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(row.migration_name).toBe(migrations[index]!.name);
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
    }
  });

  it("runs concurrently from two processes without applying anything twice", async () => {
    const name = uniqueName("outbox_migrate");
    created.push(name);
    const url = databaseUrl(name);
    const results = await Promise.all([migrate(url), migrate(url)]);
    const applied = results.flatMap((r) => r.applied);
    expect(applied.sort()).toEqual((await readMigrations()).map((m) => m.name).sort());
  });

  it("refuses to go on after a migration that failed half-way, and leaves its record", async () => {
    const name = uniqueName("outbox_migrate");
    created.push(name);
    const url = databaseUrl(name);
    await migrate(url);
    await query(url, `UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = (SELECT max(migration_name) FROM _prisma_migrations)`);
    await expect(migrate(url)).rejects.toThrow(/started but did not finish/);
  });
});

/** The tables, columns, types and indexes that schema.prisma declares, read from its text. */
async function schemaModels() {
  const text = await readFile(path.resolve(import.meta.dirname, "../../../prisma/schema.prisma"), "utf8");
  const blocks = [...text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)];
  const modelNames = new Set(blocks.map((b) => b[1]!));
  return blocks.map(([, model, body]) => {
    const lines = body!.split("\n").map((l) => l.replace(/\/\/.*$/, "").trim()).filter(Boolean);
    const table = /@@map\("(\w+)"\)/.exec(body!)?.[1] ?? model!;
    const columns = new Map<string, { column: string; type: string; nullable: boolean }>();
    for (const line of lines) {
      const field = /^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
      if (!field || line.startsWith("@@")) continue;
      const [, name, type, list, optional, attrs] = field;
      if (modelNames.has(type!)) continue;
      const column = /@map\("(\w+)"\)/.exec(attrs!)?.[1] ?? name!;
      const dbType = /@db\.(\w+)/.exec(attrs!)?.[1];
      // Unsupported("xid8"): a Postgres type Prisma has no name for; an array type reads ARRAY.
      const unsupported = type === "Unsupported" ? /^\("([^"]+)"\)(\?)?/.exec(attrs!) : null;
      if (unsupported) {
        columns.set(column, { column, type: unsupported[1]!.endsWith("[]") ? "ARRAY" : unsupported[1]!, nullable: Boolean(unsupported[2]) });
        continue;
      }
      columns.set(column, { column, type: list ? "ARRAY" : pgType(type!, dbType), nullable: Boolean(optional || list) });
    }
    const fieldToColumn = (f: string) => [...columns.values()].find((c) => c.column === f || /@map/.test(f))?.column;
    const indexes = [...body!.matchAll(/@@(index|unique|id)\(\[([^\]]+)\]/g)].map(([, kind, fields]) => ({
      kind: kind!,
      columns: fields!.split(",").map((f) => {
        const name = f.trim();
        const line = lines.find((l) => l.startsWith(`${name} `));
        return /@map\("(\w+)"\)/.exec(line ?? "")?.[1] ?? fieldToColumn(name) ?? name;
      }),
    }));
    return { model: model!, table, columns, indexes };
  });
}

function pgType(prismaType: string, dbType: string | undefined): string {
  if (dbType === "Uuid") return "uuid";
  if (dbType === "Date") return "date";
  if (dbType === "Timestamptz") return "timestamp with time zone";
  return (
    { String: "text", Int: "integer", BigInt: "bigint", Boolean: "boolean", Json: "jsonb", DateTime: "timestamp without time zone" }[
      prismaType
    ] ?? prismaType
  );
}

describe("the migrations build what schema.prisma describes", () => {
  it("has every table, column, type, nullability and index of the schema, and nothing else", async () => {
    const name = uniqueName("outbox_drift");
    created.push(name);
    const url = databaseUrl(name);
    await migrate(url);
    const models = await schemaModels();

    const columns = await query<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      url,
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const tables = new Set(columns.map((c) => c.table_name));
    expect([...tables].sort()).toEqual(models.map((m) => m.table).sort());

    for (const model of models) {
      const actual = columns
        .filter((c) => c.table_name === model.table)
        .map((c) => ({ column: c.column_name, type: c.data_type, nullable: c.is_nullable === "YES" }));
      expect(actual.sort((a, b) => a.column.localeCompare(b.column)), model.model).toEqual(
        [...model.columns.values()].sort((a, b) => a.column.localeCompare(b.column)),
      );
    }

    const indexes = await query<{ tablename: string; indexdef: string }>(
      url,
      `SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'`,
    );
    for (const model of models) {
      for (const index of model.indexes) {
        const columnList = index.columns.map((c) => `${c}`).join(", ");
        const found = indexes.some(
          (i) =>
            i.tablename === model.table &&
            i.indexdef.replaceAll('"', "").includes(`(${columnList})`) &&
            !/WHERE/.test(i.indexdef) &&
            (index.kind === "index" || /UNIQUE/.test(i.indexdef)),
        );
        expect(found, `${model.model} @@${index.kind}(${columnList})`).toBe(true);
      }
    }
  });

  it("adds the outbox's partial indexes, its notify trigger and the relay's cursor", async () => {
    const url = databaseUrl(process.env.OUTBOX_TEST_TEMPLATE!);
    const indexes = await query<{ indexname: string; indexdef: string }>(
      url,
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'event_outbox'`,
    );
    const relay = indexes.find((i) => i.indexname === "event_outbox_relay_idx");
    expect(relay?.indexdef).toMatch(/\(transaction_id, sequence\) WHERE \(status = 'pending'::text\)/);
    expect(indexes.find((i) => i.indexname === "event_outbox_aggregate_open_idx")?.indexdef).toMatch(
      /\(aggregate_type, aggregate_id, sequence\) WHERE \(status = ANY \(ARRAY\['pending'::text, 'dead'::text\]\)\)/,
    );
    expect(indexes.find((i) => i.indexname === "event_outbox_skipped_idx")?.indexdef).toMatch(/\(processed_at\) WHERE \(status = 'skipped'::text\)/);
    const triggers = await query<{ tgname: string }>(url, `SELECT tgname FROM pg_trigger WHERE tgrelid = 'event_outbox'::regclass AND NOT tgisinternal`);
    expect(triggers.map((t) => t.tgname)).toEqual(["event_outbox_notify_insert"]);
    expect(await query(url, `SELECT name, transaction_id::text, sequence::int FROM outbox_relay_cursor`)).toEqual([
      { name: "default", transaction_id: "0", sequence: 0 },
    ]);
  });
});
