import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import { createQueues, createRedis, type QueueSet } from "../../src/queues/index.ts";
import { sql } from "../../src/sql/index.ts";
import { createTestRedis, testEvents, useTestDatabase, waitFor, type TestRedis } from "@outbox/testing";
import { DeadLetterError, listDead, retryAllDead, retryDead, sendToDeadLetter, skipDead, startDeadLetterWorker } from "../../src/dead-letter/index.ts";

const database = useTestDatabase();
let redis: TestRedis;
let queues: QueueSet;

beforeAll(() => {
  redis = createTestRedis();
  queues = createQueues(createRedis({ url: redis.url }, "worker"), redis.prefix, testEvents);
});
afterAll(async () => {
  await queues.close();
  queues.connection.disconnect();
  await redis.clean();
});

interface Row {
  status: string;
  type?: string;
  aggregateId?: string;
  createdAt?: Date;
}

/** Outbox rows by plain SQL, in this order (their `sequence` order); the relay's cursor is moved past them. */
async function insert(...rows: Row[]): Promise<string[]> {
  const ids = rows.map(() => randomUUID());
  for (const [i, row] of rows.entries()) {
    const aggregateId = row.aggregateId ?? randomUUID();
    const type = row.type ?? "AccountOpened";
    const payload = { accountId: aggregateId, name: "Acme", slug: `acme-${aggregateId.slice(0, 8)}`, openedAt: new Date().toISOString() };
    await database.sql.execute(sql`
      INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, status, attempts, last_error, created_at, ordered)
      VALUES (${ids[i]}::uuid, ${type}, 'account', ${aggregateId}, ${JSON.stringify(payload)}::jsonb, ${row.status},
        ${row.status === "dead" ? 3 : 0}, ${row.status === "dead" ? "boom" : null}, ${row.createdAt ?? new Date()}, ${testEvents.policyOf(type).ordered})`);
  }
  await database.sql.execute(sql`
    UPDATE outbox_relay_cursor c SET transaction_id = last.transaction_id, sequence = last.sequence
    FROM (SELECT transaction_id, sequence FROM event_outbox ORDER BY transaction_id DESC, sequence DESC LIMIT 1) AS last
    WHERE c.name = 'default'`);
  return ids;
}

const rowOf = async (id: string) =>
  (await database.sql.query<{ status: string; attempts: number }>(sql`SELECT status, attempts FROM event_outbox WHERE id = ${id}::uuid`))[0];

describe("retryDead", () => {
  it("sends the event back to pending and has its job in the queue as soon as it returns", async () => {
    const [id] = await insert({ status: "dead" });
    await queues.events.add("AccountOpened", {} as never, { jobId: id! });
    await sendToDeadLetter(queues, { eventId: id!, type: "AccountOpened", queue: "events", error: "boom" });

    await retryDead(database.sql, queues, id!);

    expect(await rowOf(id!)).toEqual({ status: "pending", attempts: 0 });
    const job = await queues.events.getJob(id!);
    expect(job?.data).toMatchObject({ type: "AccountOpened", previousAttempts: 0 });
    expect(await job?.getState()).toMatch(/^(waiting|prioritized)$/);
    expect(await queues.deadLetter.getJob(id!)).toBeUndefined();
  });

  it("queues a retried unordered event even behind an earlier pending one of its aggregate (a receipt to one receiver)", async () => {
    const receiver = randomUUID();
    const [earlier, dead] = await insert(
      { status: "pending", type: "ReceiptSent", aggregateId: receiver },
      { status: "dead", type: "ReceiptSent", aggregateId: receiver },
    );
    await retryDead(database.sql, queues, dead!);
    expect(await queues.webhooks.getJob(dead!)).toBeDefined();
    expect(await rowOf(earlier!)).toEqual({ status: "pending", attempts: 0 });
  });

  it("refuses an unknown or not-dead event, changing nothing", async () => {
    const [processed] = await insert({ status: "processed" });
    await expect(retryDead(database.sql, queues, randomUUID())).rejects.toMatchObject({ code: "EVENT_NOT_FOUND" });
    await expect(retryDead(database.sql, queues, processed!)).rejects.toThrow(DeadLetterError);
    await expect(retryDead(database.sql, queues, processed!)).rejects.toThrow(`event ${processed} is processed, not dead`);
    expect(await queues.events.getJob(processed!)).toBeUndefined();
  });

  it("an event skipped while the retry waits for its row: refused, naming the state it is in, and not queued", async () => {
    const [id] = await insert({ status: "dead" });
    const admin = await database.sql.connect();
    await admin.run("BEGIN");
    await admin.query(sql`SELECT id FROM event_outbox WHERE id = ${id!}::uuid FOR UPDATE`);
    const retry = retryDead(database.sql, queues, id!);
    await waitFor(
      async () => (await database.sql.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))[0]!.n > 0,
      { message: "the retry to wait for the row" },
    );
    await admin.execute(sql`UPDATE event_outbox SET status = 'skipped', processed_at = now() WHERE id = ${id!}::uuid`);
    await admin.run("COMMIT");
    admin.release();
    await expect(retry).rejects.toMatchObject({ code: "EVENT_NOT_DEAD", message: `event ${id} is skipped, not dead` });
    expect(await rowOf(id!)).toEqual({ status: "skipped", attempts: 3 });
    expect(await queues.events.getJob(id!)).toBeUndefined();
  });
});

describe("skipDead", () => {
  it("skips the dead event and queues the next event of its aggregate at once, and only that one", async () => {
    const aggregateId = randomUUID();
    const [dead, next, after] = await insert({ status: "dead", aggregateId }, { status: "pending", aggregateId }, { status: "pending", aggregateId });
    await skipDead(database.sql, queues, dead!);
    expect((await rowOf(dead!))?.status).toBe("skipped");
    expect(await queues.events.getJob(next!)).toBeDefined();
    expect(await queues.events.getJob(after!)).toBeUndefined();
    await expect(skipDead(database.sql, queues, dead!)).rejects.toThrow("is skipped, not dead");
  });
});

describe("listDead and retryAllDead", () => {
  it("lists dead events oldest first, filtered by type, and retries them all, queueing each", async () => {
    await database.sql.execute(sql`DELETE FROM event_outbox`);
    const [younger, older, closed] = await insert(
      { status: "dead", createdAt: new Date(Date.now() - 60_000) },
      { status: "dead", createdAt: new Date(Date.now() - 120_000) },
      { status: "dead", type: "AccountClosed", createdAt: new Date(Date.now() - 30_000) },
    );
    expect((await listDead(database.sql)).map((e) => e.id)).toEqual([older, younger, closed]);
    expect(await listDead(database.sql, { type: "AccountClosed" })).toEqual([
      {
        id: closed,
        eventType: "AccountClosed",
        aggregateType: "account",
        aggregateId: expect.any(String) as unknown,
        attempts: 3,
        lastError: "boom",
        createdAt: expect.any(Date) as unknown,
      },
    ]);
    expect(await retryAllDead(database.sql, queues, { type: "AccountOpened" })).toEqual([older, younger]);
    expect((await rowOf(closed!))?.status).toBe("dead");
    expect(await retryAllDead(database.sql, queues)).toEqual([closed]);
    for (const id of [older, younger, closed]) expect(await queues.events.getJob(id!)).toBeDefined();
  });

  it("retries each dead event at most once per call, even when events die again while it runs", async () => {
    await database.sql.execute(sql`DELETE FROM event_outbox`);
    // 48 dead events; the same created_at for some, to walk past equal times by id.
    const at = new Date(Date.now() - 60_000);
    const ids = await insert(...Array.from({ length: 48 }, (_, i) => ({ status: "dead", createdAt: i % 3 === 0 ? at : new Date(at.getTime() + i * 1000) })));
    // Every retried event dies again at once, as a poisoned event would.
    let running = true;
    const killer = (async () => {
      while (running) {
        await database.sql.execute(sql`UPDATE event_outbox SET status = 'dead', attempts = 3 WHERE status = 'pending' AND id = ANY(${ids}::uuid[])`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const retried = await retryAllDead(database.sql, queues).finally(() => {
      running = false;
    });
    await killer;
    expect(retried).toHaveLength(48);
    expect(new Set(retried)).toEqual(new Set(ids));
  });
});

describe("the dead-letter worker", () => {
  it("fails a new entry with the event's error, and a retry from Bull Board sends the event back with its job queued", async () => {
    const [id] = await insert({ status: "dead" });
    const worker = startDeadLetterWorker({ db: database.sql, queues, connection: queues.connection, logger: createLogger({ level: "silent" }) });
    try {
      await sendToDeadLetter(queues, { eventId: id!, type: "AccountOpened", queue: "events", error: "boom" });
      await waitFor(async () => (await queues.deadLetter.getJobState(id!)) === "failed", { message: "the DLQ entry to fail" });
      expect((await queues.deadLetter.getJob(id!))?.failedReason).toBe("boom");

      await (await queues.deadLetter.getJob(id!))!.retry();
      await waitFor(async () => (await rowOf(id!))?.status === "pending", { message: "the event to be pending again" });
      await waitFor(() => queues.events.getJob(id!), { message: "the event's job" });
    } finally {
      await worker.close();
    }
  });
});
