import { randomUUID } from "node:crypto";
import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import { createQueues, type QueueSet } from "../../src/queues/index.ts";
import type { Database } from "../../src/sql/index.ts";
import { createTestRedis, testEvents, useTestDatabase, waitFor, type TestDatabaseHandle, type TestRedis } from "@outbox/testing";
import { collectStats, startStatsLog, type StatsLine } from "../../src/stats/index.ts";
import { moveRelayPastEveryRow } from "./relay.ts";

const database = useTestDatabase();
let redis: TestRedis;
let prisma: TestDatabaseHandle["prisma"];
let sql: Database;
let connection: Redis;
let queues: QueueSet;
let releaseActive: () => void = () => {};
const workers: Worker[] = [];

const row = (status: string, { aggregateId = randomUUID(), type = "AccountOpened", ageMs = 0 }: { aggregateId?: string; type?: string; ageMs?: number } = {}) => ({
  id: randomUUID(),
  eventType: type,
  aggregateType: "account",
  aggregateId,
  payload: {},
  status,
  ordered: testEvents.policyOf(type).ordered,
  availableAt: new Date(Date.now() - ageMs),
  createdAt: new Date(Date.now() - ageMs),
  ...(status === "processed" || status === "skipped" ? { processedAt: new Date() } : {}),
});

beforeAll(async () => {
  redis = createTestRedis();
  ({ prisma, sql } = database);
  connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  queues = createQueues(connection, redis.prefix, testEvents);

  // Outbox: 30 processed, 2 skipped, 3 pending (one 60 s old held behind a dead event, one held, one
  // not yet due), 3 dispatched (one 30 s old: the oldest free to run), 4 dead: two hold later pending
  // events of their aggregate, one holds nothing, and a receipt's holds nothing (unordered).
  // "Dispatched" is a pending row the relay has passed (its cursor is moved past it) that is not held;
  // the 60 s old pending row is passed too, but held behind a dead event, so it still counts as pending
  // (and is left out of the lag: it waits for an admin, not for the relay).
  const held1 = randomUUID();
  const held2 = randomUUID();
  const future = { ...row("pending"), availableAt: new Date(Date.now() + 3600_000) };
  await prisma.eventOutbox.createMany({ data: [row("dead", { aggregateId: held1 }), row("dead", { aggregateId: held2 }), row("dead")] });
  // A later pending receipt is never held (unordered), so it adds no held aggregate.
  await prisma.eventOutbox.create({ data: { ...row("dead", { aggregateId: "receiver-1", type: "ReceiptSent" }), aggregateType: "receiver" } });
  await prisma.eventOutbox.createMany({
    data: [
      row("pending", { aggregateId: held1, ageMs: 60_000 }),
      row("pending", { ageMs: 30_000 }),
      row("pending"),
      { ...row("pending", { aggregateId: "receiver-1", type: "ReceiptSent" }), aggregateType: "receiver" },
    ],
  });
  await moveRelayPastEveryRow(sql);
  await prisma.eventOutbox.createMany({
    data: [...Array.from({ length: 30 }, () => row("processed")), row("skipped"), row("skipped"), row("pending", { aggregateId: held2 }), future],
  });
  await prisma.$executeRaw`ANALYZE event_outbox`;

  // Queues: events 2 waiting (one plain, one prioritized) + 1 delayed; webhooks 1 active; dead-letter 1 failed.
  await queues.events.add("A", {} as never);
  await queues.events.add("B", {} as never, { priority: 3 });
  await queues.events.add("C", {} as never, { delay: 3600_000 });
  await queues.webhooks.add("W", {} as never);
  await queues.deadLetter.add("D", {} as never);
  const activeGate = new Promise<void>((resolve) => (releaseActive = resolve));
  workers.push(new Worker(queues.webhooks.name, () => activeGate, { connection, prefix: redis.prefix }));
  workers.push(new Worker(queues.deadLetter.name, () => Promise.reject(new UnrecoverableError("dead")), { connection, prefix: redis.prefix }));
  await waitFor(async () => (await queues.webhooks.getActiveCount()) === 1 && (await queues.deadLetter.getFailedCount()) === 1, {
    message: "one active webhook job and one failed dead-letter job",
  });
});

afterAll(async () => {
  releaseActive();
  await Promise.all(workers.map((worker) => worker.close()));
  await queues.close();
  connection.disconnect();
  await redis.clean();
});

const expectedQueues = {
  events: { waiting: 2, active: 0, delayed: 1, failed: 0 },
  webhooks: { waiting: 0, active: 1, delayed: 0, failed: 0 },
  "dead-letter": { waiting: 0, active: 0, delayed: 0, failed: 1 },
};

const expectedOutbox = { pending: 3, dispatched: 3, dead: 4, processed: 30, skipped: 2 };

describe("collectStats", () => {
  it("reports exact counts, the lag of events free to run, held events and aggregates, queue counts and DLQ size", async () => {
    const stats = await collectStats(sql, queues);
    expect(stats.outbox).toEqual(expectedOutbox);
    expect(stats.estimated).toEqual([]);
    expect(stats.dlqSize).toBe(4);
    expect(stats.heldAggregates).toBe(2);
    expect(stats.heldEvents).toBe(2);
    // Committed after the relay's position: the pending row of held2 and the one not yet due.
    expect(stats.relayBacklog).toBe(2);
    // The 60 s old event is held behind a dead one: the lag is the 30 s old event's, free to run.
    expect(stats.lagMs).toBeGreaterThanOrEqual(30_000);
    expect(stats.lagMs).toBeLessThan(60_000);
    expect(stats.queues).toEqual(expectedQueues);
  });

  it("estimates a status that reaches the limit from the planner's statistics, and says which figures are estimates", async () => {
    // A limit of 20 rows: processed (30) is estimated, every other status is still counted.
    const stats = await collectStats(sql, queues, { exactBelow: 20 });
    expect(stats.estimated).toEqual(["processed"]);
    expect(stats.outbox).toMatchObject({ pending: 3, dispatched: 3, dead: 4, skipped: 2 });
    expect(stats.outbox.processed).toBeGreaterThanOrEqual(20);
    expect(stats.outbox.processed).toBeLessThan(60);

    // A limit of 4 rows: 6 pending rows and 4 dead ones reach it too.
    const small = await collectStats(sql, queues, { exactBelow: 4 });
    expect([...small.estimated].sort()).toEqual(["dead", "dispatched", "heldAggregates", "heldEvents", "pending", "processed"]);
    expect(small.outbox.skipped).toBe(2);
    expect(small.outbox.pending + small.outbox.dispatched).toBeGreaterThanOrEqual(4);
    expect(small.outbox.dead).toBeGreaterThanOrEqual(4);
    // The lag is read from the oldest pending rows, which hold the oldest event free to run.
    expect(small.lagMs).toBeGreaterThanOrEqual(30_000);
  });
});

describe("startStatsLog", () => {
  it("writes one 'outbox stats' line per interval with the figures and the outcomes since the last line", async () => {
    const lines: StatsLine[] = [];
    const logger = createLogger({ level: "info", destination: { write: (text: string) => void lines.push(JSON.parse(text) as StatsLine) } });
    const statsLog = startStatsLog({ db: sql, queues, logger, intervalMs: 1000 });
    try {
      for (let i = 0; i < 3; i += 1) statsLog.record({ kind: "handled" });
      statsLog.record({ kind: "retry" });
      statsLog.record({ kind: "dead" });
      statsLog.record({ kind: "skipped" });
      await waitFor(() => lines.length >= 1, { message: "the first stats line" });
      const [first] = lines;
      expect(first).toMatchObject({
        msg: "outbox stats",
        level: 30,
        outbox: expectedOutbox,
        estimated: [],
        queues: expectedQueues,
        dlqSize: 4,
        heldAggregates: 2,
        heldEvents: 2,
        relayBacklog: 2,
        handledSinceLast: 3,
        failedSinceLast: 2,
        deadSinceLast: 1,
      });
      expect(first!.lagMs).toBeGreaterThanOrEqual(30_000);
      expect(first!.lagMs).toBeLessThan(60_000);
      await waitFor(() => lines.length >= 2, { message: "the second stats line" });
      expect(lines[1]).toMatchObject({ handledSinceLast: 0, failedSinceLast: 0, deadSinceLast: 0 });
    } finally {
      await statsLog.stop();
    }
  });
});

describe("collectStats on a table that changed since ANALYZE", () => {
  it("counts exactly below the limit whatever the planner's statistics say, and estimates above it from the table's size", async () => {
    await prisma.eventOutbox.createMany({ data: Array.from({ length: 3000 }, () => row("processed")) });
    const exact = await collectStats(sql, queues);
    expect(exact.outbox).toEqual({ ...expectedOutbox, processed: 3030 });
    expect(exact.estimated).toEqual([]);
    // Over the limit: the planner's rows-per-page times the new page count. Near 3030, not exact.
    const estimated = await collectStats(sql, queues, { exactBelow: 1000 });
    expect(estimated.estimated).toEqual(["processed"]);
    expect(estimated.outbox.processed).toBeGreaterThan(2000);
    expect(estimated.outbox.processed).toBeLessThan(4500);
  });
});
