import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sql } from "outbox-relay/sql";
import { useTestDatabase } from "@outbox/testing";
import { type NewOrderEvent, orderStatus } from "@outbox/domain";
import { handleBatch, jobsOf, now, publishEvents, recordingCalls, runJobs, seedOrder, seedPayment, seedProduct, seedTenant, statsOf, stockOf } from "./helpers.ts";

const database = useTestDatabase();

const orderCreated = (payload: Awaited<ReturnType<typeof seedOrder>>): NewOrderEvent => ({ type: "OrderCreated", payload });

async function orderRow(orderId: string) {
  return database.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
}

async function reservedBy(orderId: string) {
  const rows = await database.prisma.stockReservation.findMany({ where: { orderId }, orderBy: { productId: "asc" } });
  return rows.map((r) => [r.productId, r.quantity]);
}

describe("OrderCreated batches", () => {
  it("orders of one batch competing for a product: earlier ones reserve, one that no longer fits is rejected and reserves nothing", async () => {
    const tenantId = await seedTenant(database.prisma);
    const scarce = await seedProduct(database.prisma, tenantId, 5, 100);
    const plenty = await seedProduct(database.prisma, tenantId, 10, 100);
    const first = await seedOrder(database.prisma, tenantId, [{ productId: scarce, quantity: 3, unitPrice: 100 }]);
    const tooLate = await seedOrder(database.prisma, tenantId, [
      { productId: plenty, quantity: 1, unitPrice: 100 },
      { productId: scarce, quantity: 3, unitPrice: 100 },
    ]);
    const stillFits = await seedOrder(database.prisma, tenantId, [{ productId: scarce, quantity: 2, unitPrice: 100 }]);
    const nothingLeft = await seedOrder(database.prisma, tenantId, [{ productId: scarce, quantity: 1, unitPrice: 100 }]);
    const calls: Record<string, number[]> = {};

    const [, tooLateEvent] = await handleBatch(database.sql, [first, tooLate, stillFits, nothingLeft].map(orderCreated), recordingCalls(calls));

    expect(calls.OrderCreated).toEqual([4]);
    expect(await stockOf(database.prisma, scarce)).toBe(0);
    expect(await stockOf(database.prisma, plenty)).toBe(10);
    expect(await orderRow(first.orderId)).toMatchObject({ status: orderStatus.awaitingPayment, statusReason: null });
    expect(await orderRow(stillFits.orderId)).toMatchObject({ status: orderStatus.awaitingPayment, statusReason: null });
    expect(await orderRow(tooLate.orderId)).toMatchObject({
      status: orderStatus.rejected,
      statusReason: `insufficient stock: product ${scarce} requested 3, available 2`,
    });
    expect((await orderRow(nothingLeft.orderId)).statusReason).toBe(`insufficient stock: product ${scarce} requested 1, available 0`);
    expect(await reservedBy(first.orderId)).toEqual([[scarce, 3]]);
    expect(await reservedBy(stillFits.orderId)).toEqual([[scarce, 2]]);
    expect(await reservedBy(tooLate.orderId)).toEqual([]);
    expect(await reservedBy(nothingLeft.orderId)).toEqual([]);
    expect(await database.prisma.email.findMany({ where: { eventId: tooLateEvent! } })).toMatchObject([{ template: "order_rejected" }]);
    expect(await statsOf(database.prisma, tenantId)).toMatchObject([{ ordersCreated: 2, grossAmount: 500 }]);
  });

  it("a product of another tenant has nothing to give, and two events of one order reserve once", async () => {
    const tenantId = await seedTenant(database.prisma);
    const otherTenant = await seedTenant(database.prisma);
    const theirs = await seedProduct(database.prisma, otherTenant, 5);
    const ours = await seedProduct(database.prisma, tenantId, 5);
    const foreign = await seedOrder(database.prisma, tenantId, [{ productId: theirs, quantity: 1, unitPrice: 1000 }]);
    const twice = await seedOrder(database.prisma, tenantId, [{ productId: ours, quantity: 2, unitPrice: 1000 }]);

    await handleBatch(database.sql, [foreign, twice, twice].map(orderCreated));

    expect(await orderRow(foreign.orderId)).toMatchObject({ status: orderStatus.rejected, statusReason: `insufficient stock: product ${theirs} requested 1, available 0` });
    expect(await stockOf(database.prisma, theirs)).toBe(5);
    expect(await stockOf(database.prisma, ours)).toBe(3);
    expect(await reservedBy(twice.orderId)).toEqual([[ours, 2]]);
    expect(await database.prisma.email.count({ where: { data: { path: ["orderNumber"], equals: twice.orderNumber } } })).toBe(1);
  });

  it("concurrent batches of orders sharing two products, listed in either order, fill exactly the stock without deadlocks", async () => {
    const tenantId = await seedTenant(database.prisma);
    const a = await seedProduct(database.prisma, tenantId, 10);
    const b = await seedProduct(database.prisma, tenantId, 100);
    const events: NewOrderEvent[] = [];
    for (let i = 0; i < 50; i++) {
      const items = [{ productId: a, quantity: 1, unitPrice: 10 }, { productId: b, quantity: 1, unitPrice: 10 }];
      events.push(orderCreated(await seedOrder(database.prisma, tenantId, i % 2 ? items : items.reverse())));
    }
    const batches = [0, 1, 2, 3, 4].map((n) => events.filter((_, i) => i % 5 === n));
    const calls: Record<string, number[]> = {};

    await Promise.all(batches.map((batch) => handleBatch(database.sql, batch, recordingCalls(calls))));

    // One call per batch: no deadlock made a transaction run again.
    expect(calls.OrderCreated).toEqual([10, 10, 10, 10, 10]);
    const statuses = await database.prisma.order.groupBy({ by: ["status"], where: { tenantId }, _count: { _all: true } });
    expect(Object.fromEntries(statuses.map((s) => [s.status, s._count._all]))).toEqual({ awaiting_payment: 10, rejected: 40 });
    expect(await stockOf(database.prisma, a)).toBe(0);
    expect(await stockOf(database.prisma, b)).toBe(90);
    expect(await database.prisma.stockReservation.aggregate({ where: { productId: b }, _sum: { quantity: true } })).toEqual({ _sum: { quantity: 10 } });
  });
});

describe("a batch with an event that cannot be handled", () => {
  async function outboxRow(id: string) {
    const [row] = await database.sql.query<{ status: string; last_error: string | null }>(sql`
      SELECT status, last_error FROM event_outbox WHERE id = ${id}::uuid`);
    return row;
  }

  it("a missing order fails only its own event; the others are handled", async () => {
    const tenantId = await seedTenant(database.prisma);
    const product = await seedProduct(database.prisma, tenantId, 10);
    const before = await seedOrder(database.prisma, tenantId, [{ productId: product, quantity: 2, unitPrice: 1000 }]);
    const after = await seedOrder(database.prisma, tenantId, [{ productId: product, quantity: 3, unitPrice: 1000 }]);
    const missing = { ...before, orderId: randomUUID(), orderNumber: "ORD-MISSING" };
    const notAnId = { ...before, orderId: "not-a-uuid", orderNumber: "ORD-NOT-AN-ID" };
    const calls: Record<string, number[]> = {};

    const ids = await publishEvents(database.sql, [before, missing, notAnId, after].map(orderCreated));
    const outcomes = await runJobs(database.sql, await jobsOf(database.sql, ids), recordingCalls(calls));

    expect(outcomes.map((o) => o.outcome)).toEqual(["handled", "dead", "dead", "handled"]);
    // The whole call, again under a savepoint, then each event alone.
    expect(calls.OrderCreated).toEqual([4, 4, 1, 1, 1, 1]);
    expect(await outboxRow(ids[1]!)).toEqual({ status: "dead", last_error: `order ${missing.orderId} does not exist` });
    expect(await outboxRow(ids[2]!)).toEqual({ status: "dead", last_error: "order not-a-uuid does not exist" });
    expect(await outboxRow(ids[3]!)).toMatchObject({ status: "processed" });
    expect(await stockOf(database.prisma, product)).toBe(5);
    expect((await orderRow(before.orderId)).status).toBe(orderStatus.awaitingPayment);
    expect((await orderRow(after.orderId)).status).toBe(orderStatus.awaitingPayment);
    expect(await database.prisma.email.count({ where: { eventId: { in: ids } } })).toBe(2);
    expect(await statsOf(database.prisma, tenantId)).toMatchObject([{ ordersCreated: 2, grossAmount: 5000 }]);
  });

  it("a missing payment fails only its own event", async () => {
    const tenantId = await seedTenant(database.prisma);
    const product = await seedProduct(database.prisma, tenantId, 10);
    const order = await seedOrder(database.prisma, tenantId, [{ productId: product, quantity: 1, unitPrice: 1000 }]);
    await handleBatch(database.sql, [orderCreated(order)]);
    const paymentId = await seedPayment(database.prisma, order);
    const processed = (id: string): NewOrderEvent => ({
      type: "PaymentProcessed",
      payload: { paymentId: id, orderId: order.orderId, tenantId, amount: 1000, status: "succeeded", processedAt: now() },
    });

    const ids = await publishEvents(database.sql, [processed(randomUUID()), processed(paymentId)]);
    const outcomes = await runJobs(database.sql, await jobsOf(database.sql, ids));

    expect(outcomes.map((o) => o.outcome)).toEqual(["dead", "handled"]);
    expect((await database.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } })).status).toBe("completed");
    expect((await orderRow(order.orderId)).status).toBe(orderStatus.paid);
  });
});
