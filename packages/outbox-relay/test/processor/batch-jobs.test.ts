import { randomBytes, randomUUID } from "node:crypto";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import type { OutboxEvent } from "../../src/outbox/index.ts";
import { batchJobName, createQueues, createRedis, enqueueEvents, type BatchJobData, type EventJobData, type QueueSet } from "../../src/queues/index.ts";
import { recoverLostJobs, relayOnce } from "../../src/relay/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { createTestDatabase, createTestRedis, testEvents, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker, type TransactionalHandler, type WorkerSettings } from "../../src/index.ts";

/** A test database and Redis prefix of their own, with the producer's queues; `start` runs a worker on them. */
interface Stores {
  db: TestDatabase;
  redis: TestRedis;
  pool: Database;
  queues: QueueSet;
  start(settings?: Partial<WorkerSettings>): Promise<RunningWorker>;
  close(): Promise<void>;
}

async function openStores(): Promise<Stores> {
  const db = await createTestDatabase();
  const redis = createTestRedis();
  const pool = new Database(db.url, { poolSize: 2 });
  await pool.execute(sql`CREATE TABLE handled_runs (run bigserial PRIMARY KEY, event_id uuid NOT NULL)`);
  const queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, testEvents, { eventsPerJob: 100 });
  const workers: RunningWorker[] = [];
  return {
    db,
    redis,
    pool,
    queues,
    async start(settings = {}) {
      const started = await startWorker({
        databaseUrl: db.url,
        redisUrl: redis.url,
        queuePrefix: redis.prefix,
        catalog: testEvents,
        handlers: { AccountOpened: recordRun, AccountClosed: recordRun },
        logger: createLogger({ level: "silent" }),
        scanCron: "*/1 * * * * *",
        shutdownTimeoutMs: 5000,
        ...settings,
      });
      workers.push(started);
      return started;
    },
    async close() {
      for (const started of workers) await started.stop();
      await queues.close();
      queues.connection.disconnect();
      await pool.close();
      await redis.clean();
      await db.drop();
    },
  };
}

let stores: Stores;
let pool: Database;
let queues: QueueSet;
let worker: RunningWorker;
const metricsToken = randomBytes(24).toString("base64url");
/** Accounts whose AccountOpened fails before this attempt. */
const failing = new Map<string, number>();

const recordRun: TransactionalHandler = async ({ tx, event }) => {
  const accountId = (event.payload as { accountId: string }).accountId;
  if (event.attempt < (failing.get(accountId) ?? 0)) throw new Error(`account ${accountId} is not ready (attempt ${event.attempt})`);
  await tx.execute(sql`INSERT INTO handled_runs (event_id) VALUES (${event.id}::uuid)`);
};

const opened = (accountId = randomUUID()) => ({
  type: "AccountOpened" as const,
  payload: { accountId, name: "Acme", slug: "acme", openedAt: new Date().toISOString() },
});

beforeAll(async () => {
  stores = await openStores();
  ({ pool, queues } = stores);
  worker = await stores.start({ eventsPerJob: 100, retryBackoffMs: 300, healthPort: 0, metricsToken });
});
afterAll(async () => {
  await stores?.close();
});

const statusOf = async (ids: readonly string[]) =>
  pool.query<{ id: string; status: string; attempts: number; last_error: string | null }>(
    sql`SELECT id::text AS id, status, attempts, last_error FROM event_outbox WHERE id = ANY(${ids}::uuid[])`,
  );
const runsOf = async (ids: readonly string[]) =>
  new Map(
    (await pool.query<{ event_id: string; runs: number }>(sql`
      SELECT event_id::text AS event_id, count(*)::int AS runs FROM handled_runs WHERE event_id = ANY(${ids}::uuid[]) GROUP BY event_id`)).map((row) => [row.event_id, row.runs]),
  );
const allProcessed = async (ids: readonly string[]) => (await statusOf(ids)).every((row) => row.status === "processed");
const metric = async (name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${worker.healthPort}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
  return text.split("\n").filter((line) => line.startsWith(name)).reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
};
const finishedJobs = async () => [...(await queues.events.getCompleted(0, -1)), ...(await queues.events.getFailed(0, -1))] as Job<EventJobData | BatchJobData>[];
const eventIdsOf = (job: Job<EventJobData | BatchJobData>) => ("events" in job.data ? job.data.events.map((event) => event.id) : [job.id!]);

describe("healthy events travel one job per batch", () => {
  it("a backlog of 600 events committed at once travels in batch jobs of up to 100 events, each effect once, counted as events", async () => {
    const handledBefore = await metric("events_handled_total");
    const ids = await testEvents.publishMany(pool, Array.from({ length: 600 }, () => opened()));
    await waitFor(() => allProcessed(ids), { timeoutMs: 30_000, message: "600 events to be processed" });

    const runs = await runsOf(ids);
    expect(ids.every((id) => runs.get(id) === 1)).toBe(true);
    const jobs = (await finishedJobs()).filter((job) => eventIdsOf(job).some((id) => ids.includes(id)));
    expect(jobs.length).toBe(6);
    expect(jobs.every((job) => job.name === batchJobName && eventIdsOf(job).length === 100)).toBe(true);
    expect(new Set(jobs.flatMap(eventIdsOf))).toEqual(new Set(ids));
    expect((await metric("events_handled_total")) - handledBefore).toBe(600);
  });

  it("a lone event still travels as its own job, named by its type and by its id", async () => {
    const [id] = await testEvents.publishMany(pool, [opened()]);
    await waitFor(() => allProcessed([id!]), { timeoutMs: 10_000, message: "the event to be processed" });
    const job = await queues.events.getJob(id!);
    expect(job?.name).toBe("AccountOpened");
    expect(await job?.isCompleted()).toBe(true);
  });
});

describe("failures leave their batch one by one", () => {
  it("an event that fails in a batch becomes its own job with its attempts and backoff; the rest of the batch commits once", async () => {
    const accounts = Array.from({ length: 50 }, () => randomUUID());
    failing.set(accounts[17]!, 3);
    const ids = await testEvents.publishMany(pool, accounts.map(opened));
    const failed = ids[17]!;
    const others = ids.filter((id) => id !== failed);
    await waitFor(() => allProcessed(others), { timeoutMs: 15_000, message: "the 49 healthy events to be processed" });

    // Split out: its own job, as Bull Board shows one, with the batch's failure as attempt 1.
    const own = await waitFor(async () => {
      const job = await queues.events.getJob(failed);
      return job && job.attemptsMade >= 1 ? job : undefined;
    }, { timeoutMs: 10_000, message: "the failed event's own job to record its first attempt" });
    expect(own.name).toBe("AccountOpened");
    expect(own.opts.attempts).toBe(testEvents.policyOf("AccountOpened").attempts);
    expect(own.failedReason).toBe(`account ${accounts[17]} is not ready (attempt 1)`);

    await waitFor(() => allProcessed([failed]), { timeoutMs: 15_000, message: "the failing event to succeed on its third run" });
    const [row] = await statusOf([failed]);
    expect(row).toMatchObject({ status: "processed", attempts: 3 });
    const runs = await runsOf(ids);
    expect(ids.every((id) => runs.get(id) === 1)).toBe(true);
    const done = await queues.events.getJob(failed);
    expect(done?.attemptsMade).toBe(3);
    expect(await done?.isCompleted()).toBe(true);
  });

  it("a poison payload in a batch goes straight to the dead-letter queue with its reason, as its own failed job", async () => {
    const good = await testEvents.publishMany(pool, Array.from({ length: 20 }, () => opened()));
    const [{ id: poison }] = (await pool.query<{ id: string }>(sql`
      INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, payload)
      VALUES ('AccountOpened', 'account', ${randomUUID()}, '{"accountId": 42}'::jsonb) RETURNING id::text AS id`)) as [{ id: string }];
    const more = await testEvents.publishMany(pool, Array.from({ length: 20 }, () => opened()));
    await waitFor(async () => (await statusOf([poison]))[0]?.status === "dead", { timeoutMs: 15_000, message: "the poison event to be dead" });
    await waitFor(() => allProcessed([...good, ...more]), { timeoutMs: 15_000, message: "the healthy events around it to be processed" });

    const [row] = await statusOf([poison]);
    expect(row?.attempts).toBe(1);
    expect(row?.last_error).toMatch(/accountId/);
    const own = await waitFor(() => queues.events.getJob(poison), { timeoutMs: 5000, message: "the poison event's own job" });
    await waitFor(() => own.isFailed(), { timeoutMs: 5000, message: "its job to fail" });
    const failedJob = (await queues.events.getJob(poison))!;
    expect(failedJob.failedReason).toMatch(/accountId/);
    const entry = await waitFor(() => queues.deadLetter.getJob(poison), { timeoutMs: 5000, message: "the dead-letter entry" });
    expect(entry.data).toMatchObject({ eventId: poison, type: "AccountOpened", queue: "events" });
    expect(entry.data.error).toMatch(/accountId/);
    expect((await runsOf([poison])).size).toBe(0);
  });
});

describe("one event in several jobs at once", () => {
  it("runs its handler once: in two batch jobs and its own job, taken together, each effect once", async () => {
    const own = await openStores();
    try {
      const ids = await testEvents.publishMany(own.pool, Array.from({ length: 40 }, () => opened()));
      expect(await relayOnce({ db: own.pool, queues: own.queues, batchSize: 1000 })).toMatchObject({ queued: 40 });
      const rows = await own.pool.query<OutboxEvent>(sql`SELECT * FROM event_outbox WHERE id = ANY(${ids}::uuid[]) ORDER BY sequence`);
      await enqueueEvents(own.queues, rows);
      await enqueueEvents(own.queues, rows, { eventsPerJob: 1 });
      const counts = await own.queues.events.getJobCounts("prioritized", "wait");
      expect((counts.prioritized ?? 0) + (counts.wait ?? 0)).toBe(42);

      await own.start();
      await waitFor(async () => (await own.queues.events.getJobCounts("completed")).completed === 42, { timeoutMs: 15_000, message: "the 42 jobs to complete" });
      const runs = await own.pool.query<{ event_id: string; runs: number }>(sql`SELECT event_id::text AS event_id, count(*)::int AS runs FROM handled_runs GROUP BY event_id`);
      expect(runs).toHaveLength(40);
      expect(runs.every((row) => row.runs === 1)).toBe(true);
      const statuses = await own.pool.query<{ status: string; attempts: number }>(sql`SELECT status, attempts FROM event_outbox`);
      expect(statuses.every((row) => row.status === "processed" && row.attempts === 1)).toBe(true);
    } finally {
      await own.close();
    }
  });

  it("a fresh job of a dead event leaves it dead: only an admin's retry of its failed job runs it again", async () => {
    const [{ id }] = (await pool.query<{ id: string }>(sql`
      INSERT INTO event_outbox (event_type, aggregate_type, aggregate_id, payload)
      VALUES ('AccountOpened', 'account', ${randomUUID()}, '{"accountId": 7}'::jsonb) RETURNING id::text AS id`)) as [{ id: string }];
    await waitFor(async () => (await queues.events.getJob(id))?.isFailed(), { timeoutMs: 15_000, message: "the poison event's job to fail" });
    expect((await statusOf([id]))[0]).toMatchObject({ status: "dead", attempts: 1 });

    await (await queues.events.getJob(id))!.remove();
    const [row] = await pool.query<OutboxEvent>(sql`SELECT * FROM event_outbox WHERE id = ${id}::uuid`);
    await enqueueEvents(queues, [row!], { eventsPerJob: 1 });
    await waitFor(async () => (await queues.events.getJob(id))?.isCompleted(), { timeoutMs: 10_000, message: "the fresh job to complete" });
    expect((await statusOf([id]))[0]).toMatchObject({ status: "dead", attempts: 1 });
  });
});

describe("a lost batch job", () => {
  let quiet: Stores;
  beforeAll(async () => {
    quiet = await openStores();
  });
  afterAll(async () => {
    await quiet?.close();
  });

  it("the rescue pass queues again the events of a batch job that is gone, and only those", async () => {
    const logger = createLogger({ level: "silent" });
    const ids = await testEvents.publishMany(quiet.pool, Array.from({ length: 300 }, () => opened()));
    const step = await relayOnce({ db: quiet.pool, queues: quiet.queues, batchSize: 1000 });
    expect(step).toMatchObject({ read: 300, queued: 300 });
    const batches = (await quiet.queues.events.getJobs(["prioritized", "wait"])) as Job<BatchJobData>[];
    expect(batches.map((job) => job.name)).toEqual([batchJobName, batchJobName, batchJobName]);

    expect(await recoverLostJobs({ db: quiet.pool, queues: quiet.queues, logger })).toBe(0);
    const [lost] = batches;
    await lost!.remove();
    expect(await recoverLostJobs({ db: quiet.pool, queues: quiet.queues, logger })).toBe(100);

    const live = (await quiet.queues.events.getJobs(["prioritized", "wait"])) as Job<BatchJobData>[];
    const queuedIds = live.flatMap((job) => job.data.events.map((event) => event.id));
    expect(queuedIds.sort()).toEqual([...ids].sort());
    expect(new Set(queuedIds).size).toBe(300);
    expect(await recoverLostJobs({ db: quiet.pool, queues: quiet.queues, logger })).toBe(0);
  });
});
