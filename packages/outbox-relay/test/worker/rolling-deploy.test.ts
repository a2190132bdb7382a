import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger/index.ts";
import { createQueues, createRedis, type QueueSet } from "../../src/queues/index.ts";
import { recoverLostJobs } from "../../src/relay/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { createTestDatabase, createTestRedis, previousTestEvents, testEvents, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker, type TransactionalHandler } from "../../src/index.ts";

// Producers of the new release publish AccountClosed; a worker of the previous release
// (previousTestEvents) does not know it, then a worker of the new release joins it.

interface Line {
  level: number;
  msg: string;
  eventType?: string;
  waiting?: number;
}

let db: TestDatabase;
let redis: TestRedis;
let pool: Database;
/** The new release's queues, as its relay or rescue pass would queue jobs. */
let newQueues: QueueSet;
let previous: RunningWorker;
let current: RunningWorker | undefined;
const previousLines: Line[] = [];
const metricsToken = randomBytes(24).toString("base64url");

/** Records each run, in commit order, with the release that ran it. */
const recordRun =
  (release: string): TransactionalHandler =>
  async ({ tx, event }) => {
    await tx.execute(sql`INSERT INTO handled_runs (event_id, event_type, release) VALUES (${event.id}::uuid, ${event.type}, ${release})`);
  };

const workerOptions = () => ({
  databaseUrl: db.url,
  redisUrl: redis.url,
  queuePrefix: redis.prefix,
  scanCron: "*/1 * * * * *",
  statsIntervalMs: 1000,
  healthPort: 0,
  metricsToken,
  shutdownTimeoutMs: 5000,
});

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  pool = new Database(db.url, { poolSize: 2 });
  await pool.execute(sql`CREATE TABLE handled_runs (run bigserial PRIMARY KEY, event_id uuid NOT NULL, event_type text NOT NULL, release text NOT NULL)`);
  newQueues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, testEvents);
  const logger = createLogger({ level: "info", destination: { write: (text: string) => void previousLines.push(JSON.parse(text) as Line) } });
  previous = await startWorker({ ...workerOptions(), catalog: previousTestEvents, handlers: { AccountOpened: recordRun("previous") }, logger });
});
afterAll(async () => {
  await current?.stop();
  await previous?.stop();
  await newQueues?.close();
  newQueues?.connection.disconnect();
  await pool?.close();
  await redis?.clean();
  await db?.drop();
});

const accountId = randomUUID();
const opened = () => ({ type: "AccountOpened" as const, payload: { accountId, name: "Acme", slug: "acme", openedAt: new Date().toISOString() } });
let ids: { opened: string; closed: string; reopened: string };

const rowOf = async (id: string) =>
  (await pool.query<{ status: string; attempts: number; last_error: string | null }>(sql`SELECT status, attempts, last_error FROM event_outbox WHERE id = ${id}::uuid`))[0];
const runs = () => pool.query<{ event_id: string; release: string }>(sql`SELECT event_id::text AS event_id, release FROM handled_runs ORDER BY run`);
const metricsOf = async (worker: RunningWorker) =>
  (await fetch(`http://127.0.0.1:${worker.healthPort}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();

describe("a rolling deploy: producers publish a type before every worker knows it", () => {
  it("a worker without the type leaves the event pending, not dead, holding its aggregate; it warns once per interval and sets the metric", async () => {
    const [first, closed, reopened] = await testEvents.publishMany(pool, [
      opened(),
      { type: "AccountClosed", payload: { accountId, reason: "moved", closedAt: new Date().toISOString() } },
      opened(),
    ]);
    ids = { opened: first!, closed: closed!, reopened: reopened! };
    await waitFor(async () => (await rowOf(ids.opened))?.status === "processed", { message: "the event before the unknown one to be handled" });

    const warnings = () => previousLines.filter((line) => line.level === 40 && line.eventType === "AccountClosed");
    await waitFor(() => warnings().length >= 2, { message: "two stats intervals' warnings" });
    const statsLines = previousLines.filter((line) => line.msg === "outbox stats");
    expect(warnings().length).toBeLessThanOrEqual(statsLines.length);
    expect(warnings()[0]).toMatchObject({ waiting: 1 });
    expect(warnings()[0]?.msg).toContain("does not know");
    expect(previousLines.filter((line) => line.level >= 50)).toEqual([]);

    const metrics = await metricsOf(previous);
    expect(metrics).toContain('outbox_unknown_type_events{type="AccountClosed"} 1');
    expect(metrics).not.toContain("events_dead_total{");
    expect(await rowOf(ids.closed)).toEqual({ status: "pending", attempts: 0, last_error: null });
    expect(await rowOf(ids.reopened)).toMatchObject({ status: "pending", attempts: 0 });
    expect(await newQueues.events.getJob(ids.reopened)).toBeUndefined(); // held behind the unknown one
    expect(await runs()).toEqual([{ event_id: ids.opened, release: "previous" }]);
  });

  it("a job of the type queued by a newer worker: the old worker puts it back a few times, then lets it go; the row stays untouched", async () => {
    expect(await recoverLostJobs({ db: pool, queues: newQueues, logger: createLogger({ level: "silent" }) })).toBe(1);
    const states = new Set<string>();
    const job = await waitFor(async () => {
      const found = await newQueues.events.getJob(ids.closed);
      const state = (await found?.getState()) ?? "missing";
      states.add(state);
      return state === "completed" ? found : undefined;
    }, { message: "the old worker to let the job go" });
    expect(states).toContain("delayed");
    // Five takes, none of them a run of the handler (BullMQ counts the let-go as its one attempt).
    expect(job).toMatchObject({ attemptsStarted: 5, returnvalue: null });
    expect(await rowOf(ids.closed)).toEqual({ status: "pending", attempts: 0, last_error: null });
    expect(await runs()).toHaveLength(1);
  });

  it("a worker with the type joins the old one: it handles the event exactly once, then the aggregate's later event, in order", async () => {
    current = await startWorker({
      ...workerOptions(),
      catalog: testEvents,
      // Its rescue pass queues again a job the old worker let go: soon, in a test.
      recoveryIntervalMs: 1000,
      handlers: { AccountOpened: recordRun("current"), AccountClosed: recordRun("current") },
      logger: createLogger({ level: "silent" }),
    });
    await waitFor(async () => (await rowOf(ids.reopened))?.status === "processed", { timeoutMs: 20_000, message: "the aggregate's last event to be handled" });
    const handled = await runs();
    expect(handled.map((run) => run.event_id)).toEqual([ids.opened, ids.closed, ids.reopened]);
    expect(handled[1]!.release).toBe("current");
    // One run: the processed mark counts it.
    expect(await rowOf(ids.closed)).toEqual({ status: "processed", attempts: 1, last_error: null });
    await waitFor(async () => !(await metricsOf(previous)).includes("outbox_unknown_type_events{"), { message: "the gauge to drop the type" });
  });
});
