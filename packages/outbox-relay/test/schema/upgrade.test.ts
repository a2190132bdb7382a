import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { retryDead } from "../../src/dead-letter/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { createQueues, createRedis } from "../../src/queues/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { createTestRedis, databaseUrl, dropDatabase, onServer, testEvents, uniqueName, waitFor } from "@outbox/testing";
import { defineHandlers, migrate, startWorker } from "../../src/index.ts";
import { engineMigrations, migrationsDir } from "../../src/schema/migrations.ts";

// An outbox made by an older engine version, with rows in every state, upgraded by migrate(), then
// handled by today's worker.

const redis = createTestRedis();
const databases: string[] = [];
const names = engineMigrations.map((migration) => migration.name);

afterAll(async () => {
  await redis.clean();
  for (const name of databases) await dropDatabase(name);
});

/** A new database holding what `schemaSql` makes, and a pool on it. */
async function databaseWith(schemaSql: string): Promise<{ url: string; db: Database }> {
  const name = uniqueName("outbox_upgrade");
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  databases.push(name);
  const db = new Database(databaseUrl(name), { poolSize: 2 });
  const connection = await db.connect();
  await connection.run(schemaSql).finally(() => connection.release());
  return { url: databaseUrl(name), db };
}

interface Row {
  status: "pending" | "dispatched" | "processed" | "dead" | "skipped";
  type?: "AccountOpened" | "AccountClosed" | "ReceiptSent";
  accountId?: string;
  payload?: object;
  availableInMs?: number;
}

function payloadOf({ type = "AccountOpened", accountId = randomUUID() }: Row): object {
  const at = new Date().toISOString();
  if (type === "AccountClosed") return { accountId, reason: "moved", closedAt: at };
  if (type === "ReceiptSent") return { receiverId: randomUUID(), accountId };
  return { accountId, name: "Ada", slug: `ada-${accountId.slice(0, 8)}`, openedAt: at };
}

/** Rows by plain SQL, in this order, with only the columns every version has. */
async function insert(db: Database, rows: Row[]): Promise<string[]> {
  const ids: string[] = [];
  for (const row of rows) {
    const id = randomUUID();
    const finished = row.status === "processed" || row.status === "skipped";
    await db.execute(sql`
      INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error, available_at, dispatched_at, processed_at)
      VALUES (${id}::uuid, ${row.type ?? "AccountOpened"}, 'account', ${row.accountId ?? randomUUID()}, ${JSON.stringify(row.payload ?? payloadOf(row))}::jsonb,
        ${row.status}, ${row.status === "dead" ? 3 : finished ? 1 : 0}, ${row.status === "dead" ? "boom" : null},
        now() + ${row.availableInMs ?? 0}::int * interval '1 millisecond', ${row.status === "dispatched" ? new Date() : null}, ${finished ? new Date() : null})`);
    ids.push(id);
  }
  return ids;
}

/** Where the old relay would have left its cursor: past every row so far (when the version had the row). */
async function moveCursorPastRows(db: Database): Promise<void> {
  await db.execute(sql`
    UPDATE outbox_relay_cursor c SET transaction_id = last.transaction_id, sequence = last.sequence
    FROM (SELECT transaction_id, sequence FROM event_outbox ORDER BY transaction_id DESC, sequence DESC LIMIT 1) AS last
    WHERE c.name = 'default'`);
}

const statuses = async (db: Database, ids: string[]) =>
  (await db.query<{ status: string }>(sql`SELECT status FROM event_outbox o JOIN unnest(${ids}::uuid[]) WITH ORDINALITY AS i(id, n) ON o.id = i.id ORDER BY i.n`)).map((row) => row.status);

/** Fills the outbox, migrates, runs today's worker; checks that every row ends where it should, each handled once. */
async function upgradeAndHandle({ url, db }: { url: string; db: Database }, expected: { applied: string[]; baselined: string[] }): Promise<void> {
  const held = randomUUID();
  const withDeadReceipt = randomUUID();
  const [passed, dispatched, processed, skipped, dead, heldBehindDead, receipt, invalid, deadReceipt, afterDeadReceipt] = await insert(db, [
    { status: "pending" },
    { status: "dispatched" },
    { status: "processed" },
    { status: "skipped" },
    { status: "dead", accountId: held },
    { status: "pending", type: "AccountClosed", accountId: held },
    { status: "pending", type: "ReceiptSent" },
    { status: "pending", payload: { accountId: "no name" } },
    // A dead receipt (unordered) holds nothing back, though the row, older than the column, is stored ordered.
    { status: "dead", type: "ReceiptSent", accountId: withDeadReceipt },
    { status: "pending", accountId: withDeadReceipt },
  ]);
  await moveCursorPastRows(db);
  const [unread, delayed] = await insert(db, [{ status: "pending" }, { status: "pending", availableInMs: 1000 }]);

  expect(await migrate(db)).toEqual(expected);

  const handled: string[] = [];
  const record = async ({ event }: { event: { id: string } }) => void handled.push(event.id);
  const handlers = defineHandlers(testEvents, { AccountOpened: record, AccountClosed: record, ReceiptSent: record });
  const logger = createLogger({ level: "silent" });
  const worker = await startWorker({ catalog: testEvents, handlers, databaseUrl: url, redisUrl: redis.url, queuePrefix: redis.prefix, logger, recoveryIntervalMs: 500 });
  const queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, testEvents);
  try {
    const all = [passed, dispatched, processed, skipped, dead, heldBehindDead, receipt, invalid, deadReceipt, afterDeadReceipt, unread, delayed] as string[];
    const settled = ["processed", "processed", "processed", "skipped", "dead", "pending", "processed", "dead", "dead", "processed", "processed", "processed"];
    await waitFor(async () => JSON.stringify(await statuses(db, all)) === JSON.stringify(settled), { timeoutMs: 30_000, message: `statuses ${settled.join(", ")}` });
    expect(new Set(handled)).toEqual(new Set([passed, dispatched, receipt, afterDeadReceipt, unread, delayed]));
    const ordering = await db.query<{ id: string; ordered: boolean }>(sql`SELECT id::text, ordered FROM event_outbox WHERE id = ANY(${[deadReceipt!, heldBehindDead!]}::uuid[])`);
    expect(Object.fromEntries(ordering.map((row) => [row.id, row.ordered]))).toEqual({ [deadReceipt!]: false, [heldBehindDead!]: true });
    const [invalidRow] = await db.query<{ last_error: string }>(sql`SELECT last_error FROM event_outbox WHERE id = ${invalid}::uuid`);
    expect(invalidRow?.last_error).toContain("name");

    // The dead event an older version left: retried, it runs, then the event it held back.
    await retryDead(db, queues, dead!);
    await waitFor(async () => (await statuses(db, [dead!, heldBehindDead!])).every((status) => status === "processed"), { message: "the retried event and the one it held" });
    expect(handled.slice(-2)).toEqual([dead, heldBehindDead]);
    expect(handled).toHaveLength(8);
  } finally {
    await worker.stop();
    await queues.close();
    queues.connection.disconnect();
  }
}

describe("upgrading an outbox made by an older engine version", () => {
  it("today's schema (migration.sql, on main before the numbered migrations): baselined, dispatched rows back to pending, every row handled", async () => {
    const database = await databaseWith(readFileSync(new URL("../../migration.sql", import.meta.url), "utf8"));
    try {
      await upgradeAndHandle(database, { applied: names.slice(2), baselined: names.slice(0, 2) });
    } finally {
      await database.db.close();
    }
  });

  it("the oldest version's schema (no traceparent, no relay cursor row): upgraded, every row handled", async () => {
    const database = await databaseWith(readFileSync(path.join(migrationsDir(), `${names[0]}.sql`), "utf8"));
    try {
      await upgradeAndHandle(database, { applied: names.slice(1), baselined: names.slice(0, 1) });
    } finally {
      await database.db.close();
    }
  });
});
