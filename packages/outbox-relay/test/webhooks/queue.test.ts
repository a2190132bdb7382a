import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { loadConfig } from "@outbox/config";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { createLogger } from "outbox-relay/logger";
import { orderEvents } from "@outbox/domain";
import { createQueues, createRedis } from "outbox-relay/queues";
import { createTestDatabase, createTestRedis, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
// The worker app depends on this package, so it cannot be a declared dependency here (a cycle).
import { startWorker, type RunningWorker } from "../../../apps/worker/src/index.ts";
import { createEndpoint } from "@outbox/webhooks";
import { createWebhookDeliveryHandler } from "../src/index.ts";
import { createTenant, encryptionKey } from "./fixtures.ts";
import { startReceiver, webhookHeaders, type Receiver } from "./receiver.ts";

/** RETRY_BACKOFF_MS: the catalog's 5 s first retry delay, shortened so five attempts take seconds. */
const backoffMs = 400;

let db: TestDatabase;
let redis: TestRedis;
let prisma: PrismaClient;
let worker: RunningWorker;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  prisma = createPrisma(db.url, { poolSize: 4 });
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    SCAN_CRON: "*/1 * * * * *",
    WORKER_PORT: "0",
    RETRY_BACKOFF_MS: String(backoffMs),
    ENCRYPTION_KEY: encryptionKey,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
  });
  const handler = createWebhookDeliveryHandler({ encryptionKey, allowPrivateNetworks: true, timeoutMs: 5000, disableAfterFailures: 50 });
  worker = await startWorker({ config, handlers: { WebhookDelivery: handler }, logger: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  await worker?.stop();
  await prisma?.$disconnect();
  await redis?.clean();
  await db?.drop();
});

async function publishDelivery(receiver: Receiver) {
  const tenantId = await createTenant(prisma);
  const { endpoint, secret } = await createEndpoint(prisma, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url: receiver.url, events: ["order.created"] });
  const eventId = await prisma.$transaction((tx) =>
    orderEvents.publish(tx, {
      type: "WebhookDelivery",
      payload: { endpointId: endpoint.id, tenantId, type: "order.created", sourceEventId: randomUUID(), data: { orderId: "o-9" }, occurredAt: new Date().toISOString() },
    }),
  );
  return { eventId, endpointId: endpoint.id, secret };
}

const statusOf = async (id: string) => (await prisma.eventOutbox.findUniqueOrThrow({ where: { id } })).status;

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
      const attempts = await prisma.webhookAttempt.findMany({ where: { eventId }, orderBy: { attempt: "asc" } });
      expect(attempts.map((a) => [a.attempt, a.statusCode])).toEqual([[1, 500], [2, 500], [3, 200]]);
    } finally {
      await receiver.close();
    }
  });

  it("a receiver that always answers 500 leaves the event dead after 5 attempts, in the dead-letter queue", async () => {
    const receiver = await startReceiver(() => ({ status: 500, body: "down" }));
    const queues = createQueues(createRedis({ url: redis.url }, "producer"), redis.prefix, orderEvents);
    try {
      const { eventId } = await publishDelivery(receiver);
      await waitFor(async () => (await statusOf(eventId)) === "dead", { timeoutMs: 45_000, message: "the delivery to be dead" });
      expect(receiver.requests).toHaveLength(5);
      const row = await prisma.eventOutbox.findUniqueOrThrow({ where: { id: eventId } });
      expect(row.attempts).toBe(5);
      expect(row.lastError).toMatch(/the receiver answered 500/);
      expect(await prisma.webhookAttempt.count({ where: { eventId, statusCode: 500 } })).toBe(5);
      await waitFor(async () => (await queues.deadLetter.getJobState(eventId)) === "failed", { message: "the DLQ entry" });
    } finally {
      await queues.close();
      queues.connection.disconnect();
      await receiver.close();
    }
  });

  describe("a 429 or 503 with Retry-After", () => {
    /** The schedule's longest delay, before the fifth attempt: 400 ms doubled three times. */
    const longestMs = backoffMs * 2 ** 3;

    async function gapAfter(retryAfter: (first: number) => string, status: 429 | 503) {
      const receiver = await startReceiver((n) => (n === 1 ? { status, headers: { "retry-after": retryAfter(Date.now()) } } : { status: 200 }));
      try {
        const { eventId } = await publishDelivery(receiver);
        await waitFor(async () => (await statusOf(eventId)) === "processed", { timeoutMs: 30_000, message: "the delivery to be processed" });
        const [first, second] = receiver.requests.map((request) => request.at) as [number, number];
        const attempts = await prisma.webhookAttempt.findMany({ where: { eventId }, orderBy: { attempt: "asc" } });
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
