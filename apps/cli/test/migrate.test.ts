import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Database, sql } from "../../../packages/outbox-relay/src/sql/index.ts";
import { createTestDatabase, databaseUrl, forbidModules, freePort, prismaModules, type TestDatabase } from "@outbox/testing";

const mainScript = path.resolve(import.meta.dirname, "../src/main.ts");
const migrations = ["0001_outbox_tables", "0002_traceparent_and_relay_cursor_row", "0003_dispatched_rows_to_pending", "0004_webhook_tables", "0005_event_ordered_column", "0006_webhook_schedule_and_breaker"];
let shop: TestDatabase;

beforeAll(async () => {
  shop = await createTestDatabase();
});
afterAll(async () => {
  await shop.drop();
});

/** `pnpm outbox ...` (node --import tsx apps/cli/src/main.ts), in a process that fails if it loads Prisma; no Redis anywhere. */
async function outbox(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const noPrisma = forbidModules(prismaModules);
  const fullEnv = { ...process.env, ...noPrisma.env, REDIS_URL: `redis://127.0.0.1:${await freePort()}`, LOG_LEVEL: "silent", ...env };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...noPrisma.execArgv, mainScript, ...args], { env: fullEnv });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("pnpm outbox migrate", () => {
  it("on the shop's database (its Prisma migrations made the outbox): records the engine's migrations as in effect, then is up to date", async () => {
    const first = await outbox({ DATABASE_URL: shop.url }, "migrate", "--json");
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(first.stdout)).toEqual({ database: shop.name, applied: [], baselined: migrations });

    const again = await outbox({ DATABASE_URL: shop.url }, "migrate");
    expect(again).toMatchObject({ code: 0, stdout: `database ${shop.name}: up to date\n` });
  });

  it("takes --database-url over DATABASE_URL, and applies every migration to a database without the outbox", async () => {
    const empty = await createTestDatabase();
    try {
      const db = new Database(empty.url, { poolSize: 1 });
      await db.execute(sql`DROP TABLE event_outbox, outbox_relay_cursor CASCADE`);
      await db.close();
      const run = await outbox({ DATABASE_URL: "postgresql://nobody@127.0.0.1:1/nowhere" }, "migrate", "--database-url", empty.url);
      expect(run).toMatchObject({ code: 0, stdout: `database ${empty.name}: applied ${migrations.join(", ")}\n` });
    } finally {
      await empty.drop();
    }
  });

  it("exits 1 naming the database problem, as JSON with --json", async () => {
    const run = await outbox({}, "migrate", "--json", "--database-url", databaseUrl("outbox_no_such_database"));
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr)).toEqual({
      error: { code: "POSTGRES_UNREACHABLE", message: "postgres: unreachable (database does not exist); check DATABASE_URL or --database-url" },
    });
  });
});
