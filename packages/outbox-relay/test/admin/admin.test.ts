import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdmin, DeadLetterError, ReplayRefusedError, type OutboxAdmin } from "../../src/admin/index.ts";
import { createQueues, createRedis, type QueueSet } from "../../src/queues/index.ts";
import { sql } from "../../src/sql/index.ts";
import { createTestRedis, testEvents, useTestDatabase, type TestRedis } from "@outbox/testing";

const database = useTestDatabase();
let redis: TestRedis;
let admin: OutboxAdmin;
/** The queues as the worker and Bull Board see them. */
let queues: QueueSet;

beforeAll(() => {
  redis = createTestRedis();
  admin = createAdmin({ catalog: testEvents, database: database.db.url, redis: redis.url, queuePrefix: redis.prefix });
  queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, testEvents);
});
afterAll(async () => {
  await admin.close();
  await queues.close();
  queues.connection.disconnect();
  await redis.clean();
});

/** One account's rows, in this order, the relay's cursor moved past them. */
async function account(...rows: { type: "AccountOpened" | "AccountClosed"; status: string; createdAt?: Date }[]): Promise<string[]> {
  const accountId = randomUUID();
  const ids: string[] = [];
  for (const row of rows) {
    const payload = row.type === "AccountOpened" ? { accountId, name: "Acme", slug: "acme", openedAt: new Date().toISOString() } : { accountId, reason: "moved", closedAt: new Date().toISOString() };
    const [inserted] = await database.sql.query<{ id: string }>(sql`
      INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error, created_at, processed_at)
      VALUES (${row.type}, 'account', ${accountId}, ${JSON.stringify(payload)}::jsonb, ${row.status}, ${row.status === "dead" ? 3 : 0},
        ${row.status === "dead" ? "boom" : null}, ${row.createdAt ?? new Date()}, ${row.status === "processed" ? new Date() : null})
      RETURNING id::text`);
    ids.push(inserted!.id);
  }
  await database.sql.execute(sql`
    UPDATE outbox_relay_cursor c SET transaction_id = last.transaction_id, sequence = last.sequence
    FROM (SELECT transaction_id, sequence FROM event_outbox ORDER BY transaction_id DESC, sequence DESC LIMIT 1) AS last
    WHERE c.name = 'default'`);
  return ids;
}

const statusOf = async (id: string) => (await database.sql.query<{ status: string; attempts: number }>(sql`SELECT status, attempts FROM event_outbox WHERE id = ${id}::uuid`))[0];

describe("createAdmin: the admin operations from code, for the service's catalog", () => {
  it("lists a dead event and counts the event it holds back", async () => {
    const [dead, held] = await account({ type: "AccountOpened", status: "dead" }, { type: "AccountClosed", status: "pending" });
    const { events } = await admin.listDead({ type: "AccountOpened" });
    expect(events.map((event) => event.id)).toContain(dead);
    expect(events.find((event) => event.id === dead)).toMatchObject({ eventType: "AccountOpened", attempts: 3, lastError: "boom" });
    const stats = await admin.stats();
    expect(stats.dlqSize).toBeGreaterThanOrEqual(1);
    expect(stats.heldEvents).toBeGreaterThanOrEqual(1);
    await admin.skipDead(dead!);
    expect(await statusOf(held!)).toMatchObject({ status: "pending" });
  });

  it("retries a dead event: back to pending, attempts reset, its job queued before the answer", async () => {
    const [dead] = await account({ type: "AccountOpened", status: "dead" });
    expect(await admin.retryDead(dead!)).toEqual({ retried: [dead] });
    expect(await statusOf(dead!)).toEqual({ status: "pending", attempts: 0 });
    expect(await queues.events.getJob(dead!)).toMatchObject({ name: "AccountOpened" });
  });

  it("skips a dead event and queues the event it held back", async () => {
    const [dead, held] = await account({ type: "AccountOpened", status: "dead" }, { type: "AccountClosed", status: "pending" });
    expect(await admin.skipDead(dead!)).toEqual({ skipped: [dead] });
    expect(await statusOf(dead!)).toMatchObject({ status: "skipped" });
    expect(await queues.events.getJob(held!)).toMatchObject({ name: "AccountClosed" });
  });

  it("refuses an unknown or not-dead event with a DeadLetterError naming it", async () => {
    const missing = randomUUID();
    await expect(admin.retryDead(missing)).rejects.toThrow(DeadLetterError);
    await expect(admin.retryDead(missing)).rejects.toMatchObject({ code: "EVENT_NOT_FOUND" });
    const [processed] = await account({ type: "AccountOpened", status: "processed" });
    await expect(admin.skipDead(processed!)).rejects.toMatchObject({ code: "EVENT_NOT_DEAD" });
  });

  it("retries every dead event of a type", async () => {
    const ids = [...(await account({ type: "AccountClosed", status: "dead" })), ...(await account({ type: "AccountClosed", status: "dead" }))];
    const { retried } = await admin.retryAllDead({ type: "AccountClosed" });
    expect(retried).toEqual(expect.arrayContaining(ids));
    for (const id of ids) expect(await statusOf(id)).toMatchObject({ status: "pending" });
  });

  it("replays processed events of a type in a window, and refuses a payload its schema no longer accepts", async () => {
    const since = new Date(Date.now() - 60_000);
    const [processed] = await account({ type: "AccountOpened", status: "processed" });
    const result = await admin.replay({ type: "AccountOpened", since });
    expect(result.replayed.map((copy) => copy.originalId)).toContain(processed);
    const copy = result.replayed.find((entry) => entry.originalId === processed)!;
    const [row] = await database.sql.query<{ causation_id: string; status: string }>(sql`SELECT causation_id::text, status FROM event_outbox WHERE id = ${copy.copyId}::uuid`);
    expect(row).toEqual({ causation_id: processed, status: "pending" });

    await database.sql.execute(sql`UPDATE event_outbox SET payload = '{"accountId": 1}'::jsonb WHERE id = ${processed}::uuid`);
    await expect(admin.replay({ type: "AccountOpened", since })).rejects.toThrow(ReplayRefusedError);
  });

  it("closes only what it opened: a Database it was given stays usable", async () => {
    const own = createAdmin({ catalog: testEvents, database: database.sql, redis: { url: redis.url }, queuePrefix: redis.prefix });
    expect((await own.listDead()).events).toEqual(expect.any(Array));
    await own.close();
    expect(await database.sql.query(sql`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
  });
});
