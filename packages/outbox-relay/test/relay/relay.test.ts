import { randomUUID } from "node:crypto";
import { CronTime } from "cron";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import { createQueues, createRedis, type QueueSet } from "../../src/queues/index.ts";
import { Database, sql, type Queryable, type Statement } from "../../src/sql/index.ts";
import { createTestRedis, testEvents, useTestDatabase, waitFor } from "@outbox/testing";
import { OutboxScanner, readRelayStep, recoverLostJobs, relayOnce } from "../../src/relay/index.ts";

const database = useTestDatabase();
const redis = createTestRedis();
let queues: QueueSet;
const logger = createLogger({ level: "silent" });

beforeAll(() => {
  queues = createQueues(createRedis({ url: redis.url }, "worker"), redis.prefix, testEvents);
});
afterAll(async () => {
  await queues.close();
  queues.connection.disconnect();
  await redis.clean();
});
beforeEach(async () => {
  await queues.events.obliterate({ force: true });
  await database.sql.execute(sql`DELETE FROM event_outbox`);
});

const options = () => ({ db: database.sql, queues, batchSize: 100 });

function closed(accountId: string, reason = "r") {
  return { accountId, reason, closedAt: new Date().toISOString() };
}

/** Inserts AccountClosed rows by plain SQL, as any program may; returns their ids. */
async function insert(rows: { accountId: string; availableAt?: Date }[], executor: Queryable = database.sql): Promise<string[]> {
  const ids: string[] = [];
  for (const row of rows) {
    const id = randomUUID();
    await executor.execute(sql`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload, available_at)
      VALUES (${id}::uuid, 'AccountClosed', 'account', ${row.accountId}, ${JSON.stringify(closed(row.accountId))}::jsonb, ${row.availableAt ?? new Date()})`);
    ids.push(id);
  }
  return ids;
}

async function queued(ids: string[]): Promise<boolean[]> {
  return Promise.all(ids.map(async (id) => (await queues.events.getJob(id)) !== undefined));
}

async function relayAll(): Promise<void> {
  while ((await relayOnce(options())).read === options().batchSize);
}

describe("relay", () => {
  it("plans its read at every step: a plan made while the table was nearly empty is never reused on a large one", async () => {
    const db = new Database(database.db.url, { poolSize: 1 });
    try {
      for (let step = 0; step < 8; step++) {
        await insert([{ accountId: randomUUID() }]);
        await relayOnce({ ...options(), db });
      }
      // One connection: its prepared statements are the relay's.
      const prepared = await db.query<{ statement: string }>(sql`SELECT statement FROM pg_prepared_statements`);
      expect(prepared.some((p) => p.statement.includes("UPDATE outbox_relay_cursor"))).toBe(true);
      expect(prepared.some((p) => p.statement.includes("FOR UPDATE SKIP LOCKED"))).toBe(false);
    } finally {
      await db.close();
    }
  });

  it("never holds an ordered event behind an unfinished unordered one of its aggregate", async () => {
    const accountId = randomUUID();
    // A receipt (unordered) on the account's aggregate, still pending, then an ordered event of it.
    await database.sql.execute(sql`INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, payload, ordered)
      VALUES ('ReceiptSent', 'account', ${accountId}, '{}'::jsonb, false)`);
    const [ordered] = await insert([{ accountId }]);
    await relayAll();
    expect(await queued([ordered!])).toEqual([true]);
  });

  it("queues committed rows once each, in commit order, and reads nothing twice", async () => {
    const ids = await insert(Array.from({ length: 250 }, () => ({ accountId: randomUUID() })));
    const steps = [await relayOnce(options()), await relayOnce(options()), await relayOnce(options()), await relayOnce(options())];
    expect(steps.map((step) => step.read)).toEqual([100, 100, 50, 0]);
    expect((await queued(ids)).every(Boolean)).toBe(true);
    const jobs = await queues.events.getJobs(["prioritized", "waiting"]);
    expect(jobs.length).toBe(250);
  });

  it("a transaction still open when the relay passes later rows: its rows are queued when it commits", async () => {
    const slow = await database.sql.connect();
    try {
      await slow.run("BEGIN");
      const [late] = await insert([{ accountId: randomUUID() }], slow); // gets its transaction id first
      const [early] = await insert([{ accountId: randomUUID() }]); // commits first, with a later transaction id
      await relayAll();
      expect(await queued([early!, late!])).toEqual([true, false]);
      await slow.run("COMMIT");
      await relayAll();
      expect(await queued([late!])).toEqual([true]);
    } finally {
      slow.release();
    }
  });

  it("holds a later event of an aggregate until the earlier one finishes, then the rescuer or the release queues it", async () => {
    const accountId = randomUUID();
    const [first, second] = await insert([{ accountId }, { accountId }]);
    await relayAll();
    expect(await queued([first!, second!])).toEqual([true, false]);
    // The rescuer does not queue a held row either.
    await recoverLostJobs({ ...options(), logger });
    expect(await queued([second!])).toEqual([false]);
    await database.sql.execute(sql`UPDATE event_outbox SET status = 'processed' WHERE id = ${first}::uuid`);
    await recoverLostJobs({ ...options(), logger });
    expect(await queued([second!])).toEqual([true]);
  });

  it("queues a delayed row as a delayed job, due at its available_at", async () => {
    const due = new Date(Date.now() + 60_000);
    const [id] = await insert([{ accountId: randomUUID(), availableAt: due }]);
    await relayAll();
    const job = await queues.events.getJob(id!);
    expect(await job?.getState()).toBe("delayed");
    expect(Math.abs(job!.timestamp + job!.delay - due.getTime())).toBeLessThan(2000);
  });

  it("after Redis lost every job, the rescuer queues each passed pending row again", async () => {
    const ids = await insert(Array.from({ length: 30 }, () => ({ accountId: randomUUID() })));
    await relayAll();
    await queues.events.obliterate({ force: true });
    expect((await queued(ids)).some(Boolean)).toBe(false);
    expect(await recoverLostJobs({ ...options(), logger })).toBe(30);
    expect((await queued(ids)).every(Boolean)).toBe(true);
    expect(await recoverLostJobs({ ...options(), logger })).toBe(0);
  });

  it("a rescue pass over a live backlog reads one page of it, not the whole backlog", async () => {
    await insert(Array.from({ length: 2500 }, () => ({ accountId: randomUUID() })));
    await relayAll();
    const before = database.sql.statementCount;
    expect(await recoverLostJobs({ ...options(), logger })).toBe(0);
    expect(database.sql.statementCount - before).toBe(1);
  });

  it("pauses while the queues hold RELAY_MAX_QUEUED waiting jobs, and goes on as they drain", async () => {
    const ids = await insert(Array.from({ length: 600 }, () => ({ accountId: randomUUID() })));
    const scanner = new OutboxScanner({ ...options(), batchSize: 50, maxQueued: 200, logger, databaseUrl: database.db.url, scanCron: "0 0 * * * *" });
    await scanner.start();
    try {
      const waiting = () => queues.events.getJobCountByTypes("wait", "prioritized");
      const last = ids.slice(-1);
      await waitFor(async () => (await waiting()) >= 200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await waiting()).toBe(200);
      expect(await queued(last)).toEqual([false]);
      await queues.events.obliterate({ force: true }); // as if a worker had handled them
      await waitFor(async () => (await waiting()) >= 200);
      expect(await queued(last)).toEqual([false]);
      await queues.events.obliterate({ force: true });
      await waitFor(async () => (await queued(last))[0]);
    } finally {
      await scanner.stop();
    }
  });

  it("a tick whose deadline passed while it was computed (a busy machine) still steps the relay, and writes nothing to the console", async () => {
    const warn = vi.spyOn(console, "warn");
    const late = vi.spyOn(CronTime.prototype, "getTimeout").mockReturnValueOnce(-1);
    let steps = 0;
    const scanner = new OutboxScanner({ ...options(), logger, databaseUrl: database.db.url, scanCron: "* * * * * *", onStep: () => steps++ });
    await scanner.start();
    try {
      await waitFor(() => steps > 1, { message: "the wake at start, then a tick" });
      expect(late).toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      await scanner.stop();
      late.mockRestore();
      warn.mockRestore();
    }
  });

  it("two relays at once: one holds the cursor, the other steps aside; nothing is read twice", async () => {
    const ids = await insert(Array.from({ length: 50 }, () => ({ accountId: randomUUID() })));
    const steps = await Promise.all([relayOnce(options()), relayOnce(options())]);
    expect(steps.map((s) => s.read).sort((a, b) => a - b)).toEqual([0, 50]);
    expect((await queued(ids)).every(Boolean)).toBe(true);
  });

  it("reads forward from its position: the plan of its read starts at the cursor in event_outbox_relay_idx", async () => {
    await insert(Array.from({ length: 20 }, () => ({ accountId: randomUUID() })));
    let plan = "";
    const explaining = {
      query: async <Row>(statement: Statement) => {
        plan = (await database.sql.query<{ "QUERY PLAN": string }>(sql`EXPLAIN ${statement}`)).map((row) => row["QUERY PLAN"]).join("\n");
        return [] as Row[];
      },
      execute: async () => 0,
    };
    await readRelayStep(explaining, "default", 100);
    // An ordered index scan, or on a small table a bitmap scan: either starts at the cursor in the index.
    expect(plan).toMatch(/Index Scan (using|on) event_outbox_relay_idx[^\n]*\n\s+Index Cond: \(ROW\(transaction_id, sequence\) > ROW\(\$\d+, \$\d+\)\)/);
  });
});
