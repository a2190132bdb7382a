import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryDead, skipDead } from "outbox-relay/dead-letter";
import { waitFor } from "@outbox/testing";
import type { RunningWorker } from "../src/index.ts";
import {
  effectsPerEvent,
  publishAll,
  setupPipeline,
  startTestWorker,
  tenantEvent,
  waitForStatus,
  type PipelineEnv,
} from "./helpers.ts";
import { orderEvents } from "@outbox/domain";

let pipeline: PipelineEnv;
let worker: RunningWorker;

beforeAll(async () => {
  pipeline = await setupPipeline();
  worker = await startTestWorker(pipeline);
});
afterAll(async () => {
  await worker?.stop();
  await pipeline?.cleanup();
});

const now = () => new Date().toISOString();

/** One valid event of each domain type, for aggregate `key`. */
function eventOfEachType(key: string) {
  const id = randomUUID();
  const address = { firstName: "A", lastName: "B", address1: "1 Road", city: "Berlin", postalCode: "10115", country: "DE" };
  return [
    { type: "OrderCreated", payload: { orderId: `${key}-o`, orderNumber: "ORD-1", tenantId: "t", customerId: "c", customerEmail: "c@example.com", totalAmount: 100, currency: "USD", items: [{ productId: "p", quantity: 1, unitPrice: 100 }], shippingAddress: address, createdAt: now() } },
    { type: "PaymentProcessed", payload: { paymentId: id, orderId: `${key}-o`, tenantId: "t", amount: 100, status: "succeeded", processedAt: now() } },
    { type: "OrderCancelled", payload: { orderId: `${key}-o`, tenantId: "t", reason: "changed mind", cancelledAt: now() } },
    { type: "PaymentExpired", payload: { paymentId: id, orderId: `${key}-x`, tenantId: "t", expiredAt: now() } },
    { type: "UserCreated", payload: { userId: `${key}-u`, tenantId: "t", email: "u@example.com", role: "customer", createdAt: now() } },
    { type: "ProductCreated", payload: { productId: `${key}-p`, tenantId: "t", name: "Thing", sellerId: "s", categoryId: "cat", price: 5, createdAt: now() } },
    tenantEvent(),
  ] as Parameters<typeof publishAll>[1];
}

describe("the pipeline, end to end", () => {
  it("handles 1,000 events across every type, each effect exactly once", async () => {
    const events = Array.from({ length: 143 }, (_, i) => eventOfEachType(`k${i}`)).flat().slice(0, 1000);
    while (events.length < 1000) events.push(tenantEvent());
    expect(new Set(events.map((e) => e.type)).size).toBe(orderEvents.types.length - 1);
    const ids = await publishAll(pipeline.prisma, events);
    await waitForStatus(pipeline.prisma, ids, "processed", 60_000);
    const effects = await effectsPerEvent(pipeline.prisma);
    expect(ids.every((id) => effects.get(id) === 1)).toBe(true);
    const rows = await pipeline.prisma.eventOutbox.findMany({ where: { id: { in: ids } }, select: { attempts: true, processedAt: true } });
    expect(rows.every((row) => row.attempts === 1 && row.processedAt !== null)).toBe(true);
  });

  it("sends a poison payload to the dead-letter queue at once and keeps going", async () => {
    const poison = randomUUID();
    await pipeline.prisma.$executeRaw`INSERT INTO event_outbox (id, event_type, aggregate_type, aggregate_id, payload)
      VALUES (${poison}::uuid, 'TenantCreated', 'tenant', ${poison}, '{"tenantId": 42}'::jsonb)`;
    const [fine] = await publishAll(pipeline.prisma, [tenantEvent()]);
    await waitForStatus(pipeline.prisma, [poison], "dead");
    await waitForStatus(pipeline.prisma, [fine!], "processed");
    const row = await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: poison } });
    expect(row.attempts).toBe(1);
    expect(row.lastError).toMatch(/invalid TenantCreated payload: tenantId .*; name .*; slug/);
    const queues = pipeline.openQueues();
    try {
      await waitFor(async () => (await queues.deadLetter.getJobState(poison)) === "failed", { message: "the DLQ entry" });
      expect((await queues.deadLetter.getJob(poison))?.failedReason).toMatch(/invalid TenantCreated payload/);
    } finally {
      await queues.shut();
    }
  });

  it("retries with backoff: failing twice then succeeding ends processed with attempts = 3", async () => {
    const [id] = await publishAll(pipeline.prisma, [tenantEvent("fail-until:3")]);
    await waitForStatus(pipeline.prisma, [id!], "processed", 30_000);
    const row = await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: id! } });
    expect(row.attempts).toBe(3);
    expect(row.lastError).toBeNull();
    expect((await effectsPerEvent(pipeline.prisma)).get(id!)).toBe(1);
  });

  it("a handler that keeps failing ends dead after its attempts; dlq retry brings it to processed once the fault is gone", async () => {
    const aggregate = randomUUID();
    await pipeline.prisma.$executeRaw`INSERT INTO test_faults (aggregate_id) VALUES (${aggregate})`;
    const [id] = await publishAll(pipeline.prisma, [tenantEvent("fault-table", aggregate)]);
    await waitForStatus(pipeline.prisma, [id!], "dead", 30_000);
    const dead = await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: id! } });
    expect(dead.attempts).toBe(3);
    expect(dead.lastError).toMatch(/fault switched on/);
    expect((await effectsPerEvent(pipeline.prisma)).get(id!)).toBeUndefined();

    await pipeline.prisma.$executeRaw`DELETE FROM test_faults WHERE aggregate_id = ${aggregate}`;
    const queues = pipeline.openQueues();
    try {
      await retryDead(pipeline.sql, queues, id!);
    } finally {
      await queues.shut();
    }
    await waitForStatus(pipeline.prisma, [id!], "processed");
    expect((await effectsPerEvent(pipeline.prisma)).get(id!)).toBe(1);
  });

  it("runs the events of each aggregate in commit order: 200 aggregates × 5 events with random delays", async () => {
    const aggregates = Array.from({ length: 200 }, () => randomUUID());
    const events = [];
    for (let step = 0; step < 5; step++) {
      for (const orderId of aggregates) {
        events.push({
          type: "OrderCancelled" as const,
          payload: { orderId, tenantId: "t", reason: `step ${step} delay:${Math.floor(Math.random() * 8)}`, cancelledAt: now() },
        });
      }
    }
    const ids = await publishAll(pipeline.prisma, events);
    await waitForStatus(pipeline.prisma, ids, "processed", 90_000);
    const outOfOrder = await pipeline.prisma.$queryRaw<{ aggregate_id: string }[]>`
      SELECT e.aggregate_id FROM (
        SELECT t.aggregate_id, o.sequence, row_number() OVER (PARTITION BY t.aggregate_id ORDER BY t.handled_at) AS handled_rank,
               row_number() OVER (PARTITION BY t.aggregate_id ORDER BY o.sequence) AS commit_rank
        FROM test_effects t JOIN event_outbox o ON o.id = t.event_id
        WHERE t.aggregate_id = ANY(${aggregates})) e
      WHERE e.handled_rank <> e.commit_rank`;
    expect(outOfOrder).toEqual([]);
    const effects = await effectsPerEvent(pipeline.prisma);
    expect(ids.every((id) => effects.get(id) === 1)).toBe(true);
  });

  it("a dead event holds the later events of its aggregate until an admin skips it", async () => {
    const orderId = randomUUID();
    const cancel = (reason: string) => ({ type: "OrderCancelled" as const, payload: { orderId, tenantId: "t", reason, cancelledAt: now() } });
    const [first, second] = await publishAll(pipeline.prisma, [cancel("permanent"), cancel("fine")]);
    await waitForStatus(pipeline.prisma, [first!], "dead");
    const [marker] = await publishAll(pipeline.prisma, [tenantEvent()]);
    await waitForStatus(pipeline.prisma, [marker!], "processed");
    const held = await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: second! } });
    expect(held.status).toBe("pending");

    const queues = pipeline.openQueues();
    try {
      await skipDead(pipeline.sql, queues, first!);
    } finally {
      await queues.shut();
    }
    await waitForStatus(pipeline.prisma, [second!], "processed");
    expect((await pipeline.prisma.eventOutbox.findUniqueOrThrow({ where: { id: first! } })).status).toBe("skipped");
  });
});
