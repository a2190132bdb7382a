import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, testEvents, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker } from "../../src/index.ts";
import { createLogger } from "../../src/logger/index.ts";
import { Database, sql } from "../../src/sql/index.ts";
import { DeferDelays, InFlightLimits } from "../../src/webhooks/in-flight.ts";
import { createEndpoint, createWebhookDeliveryHandler, withWebhooks } from "../../src/webhooks/index.ts";
import { createWebhookDatabase, encryptionKey } from "./fixtures.ts";
import { startHoldingReceiver, startReceiver, type HoldingReceiver, type Receiver } from "./receiver.ts";

/** The worker's webhookConcurrency: without caps, a tenant with this many slow deliveries holds every slot. */
const slots = 6;
const caps = { perEndpoint: 2, perTenant: 3 };
const events = withWebhooks(testEvents);

let database: TestDatabase;
let redis: TestRedis;
let pool: Database;
let worker: RunningWorker;
let slow: HoldingReceiver;
let fast: Receiver;

beforeAll(async () => {
  database = await createWebhookDatabase();
  redis = createTestRedis();
  pool = new Database(database.url, { poolSize: 4 });
  slow = await startHoldingReceiver();
  fast = await startReceiver();
  const handler = createWebhookDeliveryHandler({
    encryptionKey,
    allowPrivateNetworks: true,
    timeoutMs: 30_000,
    inFlight: caps,
    deferDelays: { baseMs: 50, maxMs: 400 },
  });
  worker = await startWorker({
    catalog: events,
    handlers: { WebhookDelivery: handler },
    databaseUrl: database.url,
    redisUrl: redis.url,
    queuePrefix: redis.prefix,
    scanCron: "*/1 * * * * *",
    webhookConcurrency: slots,
    logger: createLogger({ level: "silent" }),
  });
});
afterAll(async () => {
  slow?.release();
  await worker?.stop();
  await Promise.all([slow?.close(), fast?.close()]);
  await pool?.close();
  await redis?.clean();
  await database?.drop();
});

async function endpointFor(tenantId: string, url: string): Promise<string> {
  const { endpoint } = await createEndpoint(pool, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url, events: ["*"] });
  return endpoint.id;
}

/** Publishes `count` deliveries to one endpoint in one transaction; returns their event ids. */
function publishDeliveries(tenantId: string, endpointId: string, count: number): Promise<string[]> {
  const payload = (n: number) => ({ endpointId, tenantId, type: "order.created", sourceEventId: randomUUID(), data: { n }, occurredAt: new Date().toISOString() });
  return events.publishMany(pool, Array.from({ length: count }, (_, n) => ({ type: "WebhookDelivery" as const, payload: payload(n) })));
}

const processedCount = async (ids: string[]) =>
  (await pool.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM event_outbox WHERE id = ANY(${ids}::uuid[]) AND status = 'processed'`))[0]!.n;

describe("caps on webhook deliveries in flight (per worker process)", () => {
  it("a tenant whose endpoints hold every request cannot delay another tenant's delivery; caps hold; nothing is lost or charged an attempt", async () => {
    const noisy = randomUUID();
    const endpoints = [await endpointFor(noisy, slow.url("/a")), await endpointFor(noisy, slow.url("/b"))];
    const noisyIds = [...(await publishDeliveries(noisy, endpoints[0]!, 10)), ...(await publishDeliveries(noisy, endpoints[1]!, 10))];
    // The noisy tenant's cap is taken: the slow receiver holds as many requests as the tenant may have.
    await waitFor(() => slow.heldTotal() >= caps.perTenant, { timeoutMs: 20_000, message: "the slow receiver to hold the tenant's cap of requests" });

    const quiet = randomUUID();
    const [quietId] = await publishDeliveries(quiet, await endpointFor(quiet, fast.url), 1);
    await waitFor(async () => (await processedCount([quietId!])) === 1, { timeoutMs: 10_000, message: "the other tenant's delivery to go out" });
    // It went out while every one of the noisy tenant's requests was still held.
    expect(slow.heldTotal()).toBe(caps.perTenant);
    expect(fast.requests).toHaveLength(1);

    slow.release();
    await waitFor(async () => (await processedCount(noisyIds)) === noisyIds.length, { timeoutMs: 30_000, message: "every noisy delivery to be processed" });
    expect(slow.maxHeldTotal()).toBeLessThanOrEqual(caps.perTenant);
    expect(Math.max(...slow.maxHeld.values())).toBeLessThanOrEqual(caps.perEndpoint);
    // Each was sent once, as its first attempt: the deferrals spent no attempt and lost nothing.
    expect(slow.requests).toHaveLength(noisyIds.length);
    const attempts = await pool.query<{ eventId: string; attempt: number; statusCode: number }>(
      sql`SELECT event_id::text AS "eventId", attempt, status_code AS "statusCode" FROM webhook_attempts WHERE event_id = ANY(${noisyIds}::uuid[])`,
    );
    expect(attempts).toHaveLength(noisyIds.length);
    expect(new Set(attempts.map((a) => a.eventId)).size).toBe(noisyIds.length);
    expect(attempts.every((a) => a.attempt === 1 && a.statusCode === 200)).toBe(true);
  });
});

describe("the caps", () => {
  it("count per endpoint and per tenant, and a release frees the slot once", () => {
    const limits = new InFlightLimits({ perEndpoint: 1, perTenant: 2 });
    const first = limits.tryAcquire("t", "e1")!;
    expect(limits.tryAcquire("t", "e1")).toBeNull();
    const second = limits.tryAcquire("t", "e2")!;
    expect(limits.tryAcquire("t", "e3")).toBeNull();
    expect(limits.tryAcquire("u", "e4")).not.toBeNull();
    first();
    first();
    expect(limits.endpointCount("e1")).toBe(0);
    expect(limits.tryAcquire("t", "e3")).not.toBeNull();
    expect(limits.tryAcquire("t", "e1")).toBeNull();
    second();
  });

  it("hold endpoints of no tenant to the endpoint's cap alone", () => {
    const limits = new InFlightLimits({ perEndpoint: 1, perTenant: 1 });
    expect(limits.tryAcquire(null, "e1")).not.toBeNull();
    expect(limits.tryAcquire(null, "e1")).toBeNull();
    expect(limits.tryAcquire(null, "e2")).not.toBeNull();
  });

  it("a deferred delivery waits longer each time (with jitter, up to the maximum) and starts over once it ran; the least recently deferred are forgotten first", () => {
    const delays = new DeferDelays({ baseMs: 100, maxMs: 500, maxTracked: 2 });
    const waits = [1, 2, 3, 4].map(() => delays.next("a"));
    [100, 200, 400, 500].forEach((nominal, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(nominal * 0.75);
      expect(waits[i]).toBeLessThanOrEqual(nominal * 1.25);
    });
    delays.started("a");
    expect(delays.next("a")).toBeLessThanOrEqual(125);
    delays.next("b");
    delays.next("a");
    delays.next("c");
    // Three events tracked where two fit: "b", the least recently deferred, starts over; "a" does not.
    expect(delays.next("a")).toBeGreaterThanOrEqual(300);
    expect(delays.next("b")).toBeLessThanOrEqual(125);
  });
});
