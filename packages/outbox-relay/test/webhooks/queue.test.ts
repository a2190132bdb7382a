import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createTestRedis, testEvents, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker } from "../../src/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { createQueues, createRedis } from "../../src/queues/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { createEndpoint, createWebhookDeliveryHandler, withWebhooks } from "../../src/webhooks/index.ts";
import { createWebhookDatabase, encryptionKey } from "./fixtures.ts";
import { startReceiver, webhookHeaders, type Receiver } from "./receiver.ts";

/** The retry schedule (WEBHOOK_RETRY_SCHEDULE), shortened so five attempts take seconds: 0,400ms,800ms,1600ms,3200ms. */
const backoffMs = 400;
const retrySchedule = [0, backoffMs, backoffMs * 2, backoffMs * 4, backoffMs * 8];
const events = withWebhooks(testEvents);

let database: TestDatabase;
let redis: TestRedis;
let pool: Database;
let worker: RunningWorker;

beforeAll(async () => {
  database = await createWebhookDatabase();
  redis = createTestRedis();
  pool = new Database(database.url, { poolSize: 4 });
  const handler = createWebhookDeliveryHandler({ encryptionKey, allowPrivateNetworks: true, timeoutMs: 5000, retrySchedule });
  worker = await startWorker({
    catalog: events,
    handlers: { WebhookDelivery: handler },
    databaseUrl: database.url,
    redisUrl: redis.url,
    queuePrefix: redis.prefix,
    scanCron: "*/1 * * * * *",
    logger: createLogger({ level: "silent" }),
  });
});
afterAll(async () => {
  await worker?.stop();
  await pool?.close();
  await redis?.clean();
  await database?.drop();
});

async function publishDelivery(receiver: Receiver) {
  const tenantId = randomUUID();
  const { endpoint, secret } = await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url: receiver.url, events: ["order.created"] });
  const eventId = await events.publish(pool, {
    type: "WebhookDelivery",
    payload: { endpointId: endpoint.id, tenantId, type: "order.created", sourceEventId: randomUUID(), data: { orderId: "o-9" }, occurredAt: new Date().toISOString() },
  });
  return { eventId, endpointId: endpoint.id, secret };
}

const rowOf = async (id: string) =>
  (await pool.query<{ status: string; attempts: number; lastError: string | null }>(
    sql`SELECT status, attempts, last_error AS "lastError" FROM event_outbox WHERE id = ${id}::uuid`,
  ))[0]!;
const statusOf = async (id: string) => (await rowOf(id)).status;
const attemptsOf = (eventId: string) =>
  pool.query<{ attempt: number; statusCode: number | null; error: string | null }>(
    sql`SELECT attempt, status_code AS "statusCode", error FROM webhook_attempts WHERE event_id = ${eventId}::uuid ORDER BY attempt`,
  );

describe("webhook deliveries through the real queue and processor", () => {
  it("a receiver answering 500 twice then 200 gets three verified attempts with growing gaps", async () => {
    const receiver = await startReceiver((n) => ({ status: n <= 2 ? 500 : 200 }));
    try {
      const { eventId, secret } = await publishDelivery(receiver);
      await waitFor(async () => (await statusOf(eventId)) === "processed", { timeoutMs: 30_000, message: "the delivery to be processed" });
      expect(receiver.requests).toHaveLength(3);
      for (const request of receiver.requests) {
        expect(request.headers["webhook-id"]).toBe(eventId);
        expect(() => new Webhook(secret).verify(request.body, webhookHeaders(request))).not.toThrow();
      }
      const [first, second, third] = receiver.requests.map((request) => request.at) as [number, number, number];
      expect(second - first).toBeGreaterThanOrEqual(backoffMs * 0.9);
      expect(third - second).toBeGreaterThan(second - first);
      const attempts = await attemptsOf(eventId);
      expect(attempts.map((a) => [a.attempt, a.statusCode])).toEqual([[1, 500], [2, 500], [3, 200]]);
    } finally {
      await receiver.close();
    }
  });

  it("a receiver down for the first four attempts gets the fifth on schedule though Redis is flushed twice between attempts: none early, none twice", async () => {
    const receiver = await startReceiver((n) => ({ status: n <= 4 ? 503 : 200 }));
    try {
      const { eventId, secret } = await publishDelivery(receiver);
      for (const flushAfter of [2, 3]) {
        await waitFor(async () => (await attemptsOf(eventId)).length === flushAfter, { timeoutMs: 30_000, message: `attempt ${flushAfter}` });
        await redis.clean();
      }
      await waitFor(async () => (await statusOf(eventId)) === "processed", { timeoutMs: 30_000, message: "the delivery to be processed" });
      expect(receiver.requests.map((request) => request.headers["webhook-id"])).toEqual([eventId, eventId, eventId, eventId, eventId]);
      for (const request of receiver.requests) expect(() => new Webhook(secret).verify(request.body, webhookHeaders(request))).not.toThrow();
      const at = receiver.requests.map((request) => request.at);
      for (let attempt = 1; attempt < 5; attempt++) expect(at[attempt]! - at[attempt - 1]!).toBeGreaterThanOrEqual(retrySchedule[attempt]!);
      expect((await attemptsOf(eventId)).map((a) => [a.attempt, a.statusCode])).toEqual([[1, 503], [2, 503], [3, 503], [4, 503], [5, 200]]);
      expect(await rowOf(eventId)).toMatchObject({ status: "processed", attempts: 5 });
    } finally {
      await receiver.close();
    }
  });

  it("a receiver that always answers 500 leaves the event dead after 5 attempts, in the dead-letter queue", async () => {
    const receiver = await startReceiver(() => ({ status: 500, body: "down" }));
    const queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, events);
    try {
      const { eventId } = await publishDelivery(receiver);
      await waitFor(async () => (await statusOf(eventId)) === "dead", { timeoutMs: 45_000, message: "the delivery to be dead" });
      expect(receiver.requests).toHaveLength(5);
      const row = await rowOf(eventId);
      expect(row.attempts).toBe(5);
      expect(row.lastError).toMatch(/failed on its last attempt \(5 of 5\): the receiver answered 500/);
      expect((await attemptsOf(eventId)).filter((a) => a.statusCode === 500)).toHaveLength(5);
      await waitFor(async () => (await queues.deadLetter.getJobState(eventId)) === "failed", { message: "the DLQ entry" });
    } finally {
      await queues.close();
      queues.connection.disconnect();
      await receiver.close();
    }
  });

  describe("a 429 or 503 with Retry-After", () => {
    /** The schedule's longest wait, before the fifth attempt. */
    const longestMs = Math.max(...retrySchedule);

    async function gapAfter(retryAfter: (first: number) => string, status: 429 | 503) {
      const receiver = await startReceiver((n) => (n === 1 ? { status, headers: { "retry-after": retryAfter(Date.now()) } } : { status: 200 }));
      try {
        const { eventId } = await publishDelivery(receiver);
        await waitFor(async () => (await statusOf(eventId)) === "processed", { timeoutMs: 30_000, message: "the delivery to be processed" });
        const [first, second] = receiver.requests.map((request) => request.at) as [number, number];
        const attempts = await attemptsOf(eventId);
        return { first, second, gap: second - first, attempts };
      } finally {
        await receiver.close();
      }
    }

    it("delta-seconds: the second request comes no sooner than asked (2 s, five times the schedule's 400 ms)", async () => {
      const { gap, attempts } = await gapAfter(() => "2", 429);
      expect(gap).toBeGreaterThanOrEqual(2000);
      expect(attempts.map((a) => [a.attempt, a.statusCode])).toEqual([[1, 429], [2, 200]]);
      expect(attempts[0]!.error).toMatch(/429 with Retry-After: 2 \(the next attempt waits at least 2000 ms/);
    });

    it("an HTTP-date: the second request comes no sooner than that time", async () => {
      let asked = 0;
      const { second } = await gapAfter((now) => {
        asked = Math.ceil((now + 2000) / 1000) * 1000;
        return new Date(asked).toUTCString();
      }, 503);
      expect(second).toBeGreaterThanOrEqual(asked);
    });

    it("is clamped to the schedule's longest delay: an hour becomes 3.2 s", async () => {
      const { gap } = await gapAfter(() => "3600", 429);
      expect(gap).toBeGreaterThanOrEqual(longestMs);
      expect(gap).toBeLessThan(longestMs + 10_000);
    });
  });
});
