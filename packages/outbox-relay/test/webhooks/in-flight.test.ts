import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@outbox/config";
import { createPrisma, type PrismaClient } from "@outbox/db";
import { orderEvents } from "@outbox/domain";
import { createLogger } from "outbox-relay/logger";
import { createTestDatabase, createTestRedis, waitFor, type TestDatabase, type TestRedis } from "@outbox/testing";
import { createEndpoint } from "@outbox/webhooks";
// The worker app depends on this package, so it cannot be a declared dependency here (a cycle).
import { startWorker, type RunningWorker } from "../../../apps/worker/src/index.ts";
import { createWebhookDeliveryHandler, DeferDelays, deliveryOptionsFromConfig, InFlightLimits } from "../src/index.ts";
import { createTenant, encryptionKey } from "./fixtures.ts";
import { startHoldingReceiver, startReceiver, type HoldingReceiver, type Receiver } from "./receiver.ts";

/** WEBHOOK_CONCURRENCY of the worker under test: without caps, a tenant with this many slow deliveries holds every slot. */
const slots = 6;
const caps = { perEndpoint: 2, perTenant: 3 };

let db: TestDatabase;
let redis: TestRedis;
let prisma: PrismaClient;
let worker: RunningWorker;
let slow: HoldingReceiver;
let fast: Receiver;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  prisma = createPrisma(db.url, { poolSize: 4 });
  slow = await startHoldingReceiver();
  fast = await startReceiver();
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: redis.prefix,
    SCAN_CRON: "*/1 * * * * *",
    WORKER_PORT: "0",
    WEBHOOK_CONCURRENCY: String(slots),
    ENCRYPTION_KEY: encryptionKey,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
  });
  const handler = createWebhookDeliveryHandler({
    encryptionKey,
    allowPrivateNetworks: true,
    timeoutMs: 30_000,
    disableAfterFailures: 50,
    inFlight: caps,
    deferDelays: { baseMs: 50, maxMs: 400 },
  });
  worker = await startWorker({ config, handlers: { WebhookDelivery: handler }, logger: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  slow?.release();
  await worker?.stop();
  await Promise.all([slow?.close(), fast?.close()]);
  await prisma?.$disconnect();
  await redis?.clean();
  await db?.drop();
});

async function endpointFor(tenantId: string, url: string): Promise<string> {
  const { endpoint } = await createEndpoint(prisma, { encryptionKey, allowPrivateNetworks: true }, { tenantId, url, events: ["*"] });
  return endpoint.id;
}

/** Publishes `count` deliveries to one endpoint in one transaction; returns their event ids. */
function publishDeliveries(tenantId: string, endpointId: string, count: number): Promise<string[]> {
  return prisma.$transaction(async (tx) => {
    const ids: string[] = [];
    for (let n = 0; n < count; n += 1) {
      const payload = { endpointId, tenantId, type: "order.created" as const, sourceEventId: randomUUID(), data: { n }, occurredAt: new Date().toISOString() };
      ids.push(await orderEvents.publish(tx, { type: "WebhookDelivery", payload }));
    }
    return ids;
  });
}

const processedCount = (ids: string[]) => prisma.eventOutbox.count({ where: { id: { in: ids }, status: "processed" } });

describe("caps on webhook deliveries in flight (per worker process)", () => {
  it("a tenant whose endpoints hold every request cannot delay another tenant's delivery; caps hold; nothing is lost or charged an attempt", async () => {
    const noisy = await createTenant(prisma);
    const endpoints = [await endpointFor(noisy, slow.url("/a")), await endpointFor(noisy, slow.url("/b"))];
    const noisyIds = [...(await publishDeliveries(noisy, endpoints[0]!, 10)), ...(await publishDeliveries(noisy, endpoints[1]!, 10))];
    // The noisy tenant's cap is taken: the slow receiver holds as many requests as the tenant may have.
    await waitFor(() => slow.heldTotal() >= caps.perTenant, { timeoutMs: 20_000, message: "the slow receiver to hold the tenant's cap of requests" });

    const quiet = await createTenant(prisma);
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
    const attempts = await prisma.webhookAttempt.findMany({ where: { eventId: { in: noisyIds } }, select: { eventId: true, attempt: true, statusCode: true } });
    expect(attempts).toHaveLength(noisyIds.length);
    expect(new Set(attempts.map((a) => a.eventId)).size).toBe(noisyIds.length);
    expect(attempts.every((a) => a.attempt === 1 && a.statusCode === 200)).toBe(true);
  });
});

describe("the caps' settings", () => {
  it("come from WEBHOOK_IN_FLIGHT_PER_ENDPOINT and _PER_TENANT, defaulting to 4 and a fifth of WEBHOOK_CONCURRENCY", () => {
    const base = { ENCRYPTION_KEY: encryptionKey };
    expect(deliveryOptionsFromConfig(loadConfig(base)).inFlight).toEqual({ perEndpoint: 4, perTenant: 10 });
    expect(deliveryOptionsFromConfig(loadConfig({ ...base, WEBHOOK_CONCURRENCY: "10" })).inFlight).toEqual({ perEndpoint: 2, perTenant: 2 });
    const set = loadConfig({ ...base, WEBHOOK_CONCURRENCY: "20", WEBHOOK_IN_FLIGHT_PER_TENANT: "8", WEBHOOK_IN_FLIGHT_PER_ENDPOINT: "3" });
    expect(deliveryOptionsFromConfig(set).inFlight).toEqual({ perEndpoint: 3, perTenant: 8 });
  });

  it("refuse a per-tenant cap above WEBHOOK_CONCURRENCY and a per-endpoint cap above the tenant's, naming the field", () => {
    expect(() => loadConfig({ WEBHOOK_CONCURRENCY: "5", WEBHOOK_IN_FLIGHT_PER_TENANT: "6" })).toThrow(/WEBHOOK_IN_FLIGHT_PER_TENANT.*must not exceed WEBHOOK_CONCURRENCY \(5\)/);
    expect(() => loadConfig({ WEBHOOK_IN_FLIGHT_PER_TENANT: "3", WEBHOOK_IN_FLIGHT_PER_ENDPOINT: "4" })).toThrow(/WEBHOOK_IN_FLIGHT_PER_ENDPOINT.*must not exceed WEBHOOK_IN_FLIGHT_PER_TENANT \(3\)/);
  });

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
