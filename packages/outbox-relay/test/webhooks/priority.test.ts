import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, testEvents, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker } from "../../src/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { Database } from "../../src/sql/index.ts";
import { createEndpoint, createWebhookDeliveryHandler, withWebhooks } from "../../src/webhooks/index.ts";
import { createWebhookDatabase, encryptionKey } from "./fixtures.ts";
import { startReceiver, type Receiver } from "./receiver.ts";

const events = withWebhooks(testEvents);
const retryWaitMs = 1500;

let database: TestDatabase;
let redis: TestRedis;
let pool: Database;
let worker: RunningWorker;

beforeAll(async () => {
  database = await createWebhookDatabase();
  redis = createTestRedis();
  pool = new Database(database.url, { poolSize: 4 });
  const handler = createWebhookDeliveryHandler({
    encryptionKey,
    allowPrivateNetworks: true,
    retrySchedule: [0, retryWaitMs],
    // Every retry queues in BullMQ (no cap defers it, no breaker holds it): what is measured is their priority.
    inFlight: { perEndpoint: 10_000, perTenant: 10_000 },
    breaker: { failures: 100_000, cooldownMs: 1000, maxCooldownMs: 1000 },
  });
  worker = await startWorker({
    catalog: events,
    handlers: { WebhookDelivery: handler },
    databaseUrl: database.url,
    redisUrl: redis.url,
    queuePrefix: redis.prefix,
    webhookConcurrency: 2,
    logger: createLogger({ level: "silent" }),
  });
});
afterAll(async () => {
  await worker?.stop();
  await pool?.close();
  await redis?.clean();
  await database?.drop();
});

async function endpointOn(receiver: Receiver) {
  const tenantId = randomUUID();
  const { endpoint } = await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url: receiver.url, events: ["*"] });
  return { endpointId: endpoint.id, tenantId };
}

const deliveryTo = ({ endpointId, tenantId }: { endpointId: string; tenantId: string }) => ({
  type: "WebhookDelivery" as const,
  payload: { endpointId, tenantId, type: "order.created", sourceEventId: randomUUID(), data: { n: 1 }, occurredAt: new Date().toISOString() },
});

describe("webhook retries and first attempts", () => {
  it("a first attempt runs before retries that came due earlier: they wait at a lower priority", async () => {
    const seen = new Set<string>();
    // Each message fails at once the first time; its retry takes 40 ms and succeeds.
    const flaky = await startReceiver((_, request) => {
      const id = String(request.headers["webhook-id"]);
      if (seen.has(id)) return { status: 200, delayMs: 40 };
      seen.add(id);
      return { status: 503 };
    });
    const healthy = await startReceiver();
    try {
      const retrying = 200;
      const flakyEndpoint = await endpointOn(flaky);
      await events.publishMany(pool, Array.from({ length: retrying }, () => deliveryTo(flakyEndpoint)));
      await waitFor(() => flaky.requests.length >= retrying, { timeoutMs: 30_000, message: "every first attempt" });
      // Every retry is due (each waits 1.5 s after its first attempt), and a few have run.
      await new Promise((resolve) => setTimeout(resolve, retryWaitMs + 300));

      // Two slots, 200 retries of 40 ms due: about 4 s of work queued ahead, were it first come, first served.
      const published = Date.now();
      await events.publish(pool, deliveryTo(await endpointOn(healthy)));
      await waitFor(() => healthy.requests.length === 1, { timeoutMs: 30_000, message: "the new delivery" });
      const retriesDone = flaky.requests.length - retrying;
      expect(healthy.requests[0]!.at - published).toBeLessThan(1500);
      expect(retriesDone).toBeLessThan(retrying / 2);
      await waitFor(() => flaky.requests.length === 2 * retrying, { timeoutMs: 60_000, message: "every retry" });
    } finally {
      await Promise.all([flaky.close(), healthy.close()]);
    }
  });
});
