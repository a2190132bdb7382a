import { describe, expect, it } from "vitest";
import { useTestDatabase } from "@outbox/testing";
import { utcDay } from "../src/index.ts";
import { orderStatus } from "@outbox/domain";
import { runHandler, seedOrder, seedPayment, seedProduct, seedTenant, statsOf, stockOf } from "./helpers.ts";

const database = useTestDatabase();

const now = () => new Date().toISOString();

describe("OrderCreated", () => {
  it("reserves stock, moves the order to awaiting_payment, queues the confirmation and counts it", async () => {
    const tenantId = await seedTenant(database.prisma);
    const book = await seedProduct(database.prisma, tenantId, 5, 1000);
    const pen = await seedProduct(database.prisma, tenantId, 3, 250);
    const order = await seedOrder(database.prisma, tenantId, [
      { productId: book, quantity: 2, unitPrice: 1000 },
      { productId: pen, quantity: 3, unitPrice: 250 },
    ]);
    const eventId = await runHandler(database.sql, "OrderCreated", order);

    expect(await stockOf(database.prisma, book)).toBe(3);
    expect(await stockOf(database.prisma, pen)).toBe(0);
    const row = await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } });
    expect(row).toMatchObject({ status: orderStatus.awaitingPayment, statusReason: null });
    const reservations = await database.prisma.stockReservation.findMany({ where: { orderId: order.orderId } });
    expect(reservations.map((r) => [r.productId, r.quantity, r.releasedAt]).sort()).toEqual([[book, 2, null], [pen, 3, null]].sort());
    const emails = await database.prisma.email.findMany({ where: { eventId } });
    expect(emails).toMatchObject([{ recipient: "ada@example.com", template: "order_confirmation", status: "pending" }]);
    const [stats] = await statsOf(database.prisma, tenantId);
    expect(stats).toMatchObject({ ordersCreated: 1, grossAmount: 2750, ordersCancelled: 0 });
    expect(stats!.day.toISOString().slice(0, 10)).toBe(utcDay(order.createdAt));
  });

  it("rejects an order it cannot fill completely and reserves nothing", async () => {
    const tenantId = await seedTenant(database.prisma);
    const plenty = await seedProduct(database.prisma, tenantId, 10);
    const scarce = await seedProduct(database.prisma, tenantId, 1);
    const order = await seedOrder(database.prisma, tenantId, [
      { productId: plenty, quantity: 4, unitPrice: 1000 },
      { productId: scarce, quantity: 2, unitPrice: 1000 },
    ]);
    const eventId = await runHandler(database.sql, "OrderCreated", order);

    expect(await stockOf(database.prisma, plenty)).toBe(10);
    expect(await stockOf(database.prisma, scarce)).toBe(1);
    const row = await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } });
    expect(row.status).toBe(orderStatus.rejected);
    expect(row.statusReason).toContain(`product ${scarce} requested 2, available 1`);
    expect(await database.prisma.stockReservation.count({ where: { orderId: order.orderId } })).toBe(0);
    expect(await database.prisma.email.findMany({ where: { eventId } })).toMatchObject([{ template: "order_rejected" }]);
    expect(await statsOf(database.prisma, tenantId)).toEqual([]);
  });

  it("accepts exactly 10 of 50 concurrent orders for a product with stock 10", async () => {
    const tenantId = await seedTenant(database.prisma);
    const product = await seedProduct(database.prisma, tenantId, 10);
    const orders = [];
    for (let i = 0; i < 50; i++) orders.push(await seedOrder(database.prisma, tenantId, [{ productId: product, quantity: 1, unitPrice: 1000 }]));

    await Promise.all(orders.map((order) => runHandler(database.sql, "OrderCreated", order)));

    const statuses = await database.prisma.order.groupBy({ by: ["status"], where: { tenantId }, _count: { _all: true } });
    expect(Object.fromEntries(statuses.map((s) => [s.status, s._count._all]))).toEqual({ awaiting_payment: 10, rejected: 40 });
    expect(await stockOf(database.prisma, product)).toBe(0);
    expect(await database.prisma.stockReservation.aggregate({ where: { productId: product }, _sum: { quantity: true } })).toEqual({ _sum: { quantity: 10 } });
    expect((await statsOf(database.prisma, tenantId))[0]).toMatchObject({ ordersCreated: 10, grossAmount: 10_000 });
  });

  it("counts money past 32 bits: three orders of 1,500,000,000 cents in a day are all accepted and paid", async () => {
    const tenantId = await seedTenant(database.prisma);
    const price = 1_500_000_000;
    const product = await seedProduct(database.prisma, tenantId, 3, price);
    const day = new Date("2026-05-05T10:00:00Z");
    const orders = [];
    for (let i = 0; i < 3; i++) orders.push(await seedOrder(database.prisma, tenantId, [{ productId: product, quantity: 1, unitPrice: price }], { createdAt: day }));
    for (const order of orders) await runHandler(database.sql, "OrderCreated", order);
    for (const order of orders) {
      const paymentId = await seedPayment(database.prisma, order);
      await runHandler(database.sql, "PaymentProcessed", { paymentId, orderId: order.orderId, tenantId, amount: price, status: "succeeded", processedAt: "2026-05-05T11:00:00Z" });
    }
    const cancelled = orders[0]!;
    await runHandler(database.sql, "OrderCancelled", { orderId: cancelled.orderId, tenantId, reason: "changed my mind", cancelledAt: "2026-05-05T12:00:00Z" });

    const statuses = await database.prisma.order.findMany({ where: { tenantId }, select: { status: true } });
    expect(statuses.map((o) => o.status).sort()).toEqual([orderStatus.cancelled, orderStatus.paid, orderStatus.paid]);
    expect(await database.prisma.refund.findMany({ where: { orderId: cancelled.orderId } })).toMatchObject([{ amount: 1_500_000_000n }]);
    expect(await statsOf(database.prisma, tenantId)).toMatchObject([
      { ordersCreated: 3, grossAmount: 4_500_000_000, paymentsCompleted: 3, paymentsAmount: 4_500_000_000, ordersCancelled: 1, refundsAmount: 1_500_000_000 },
    ]);
  });

  it("leaves an order cancelled before it ran alone", async () => {
    const tenantId = await seedTenant(database.prisma);
    const product = await seedProduct(database.prisma, tenantId, 5);
    const order = await seedOrder(database.prisma, tenantId, [{ productId: product, quantity: 1, unitPrice: 1000 }]);
    await database.prisma.order.update({ where: { id: order.orderId }, data: { status: orderStatus.cancelled } });
    await runHandler(database.sql, "OrderCreated", order);
    expect(await stockOf(database.prisma, product)).toBe(5);
    expect((await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe(orderStatus.cancelled);
  });
});

describe("PaymentProcessed, PaymentExpired and OrderCancelled", () => {
  async function acceptedOrder(stock = 5, quantity = 2) {
    const tenantId = await seedTenant(database.prisma);
    const product = await seedProduct(database.prisma, tenantId, stock);
    const order = await seedOrder(database.prisma, tenantId, [{ productId: product, quantity, unitPrice: 1000 }]);
    await runHandler(database.sql, "OrderCreated", order);
    return { tenantId, product, order };
  }

  it("a completed payment makes the order paid; its cancel restores the stock once and refunds once", async () => {
    const { tenantId, product, order } = await acceptedOrder();
    const paymentId = await seedPayment(database.prisma, order);
    await runHandler(database.sql, "PaymentProcessed", {
      paymentId, orderId: order.orderId, tenantId, amount: 2000, status: "succeeded", processedAt: now(),
    });
    expect((await database.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } })).status).toBe("completed");
    expect((await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe(orderStatus.paid);
    expect(await stockOf(database.prisma, product)).toBe(3);

    const cancel = { orderId: order.orderId, tenantId, reason: "changed my mind", cancelledAt: now() };
    const cancelEvent = await runHandler(database.sql, "OrderCancelled", cancel);
    // A second cancel event (a second request) finds nothing left to restore or refund.
    await runHandler(database.sql, "OrderCancelled", cancel);

    expect(await stockOf(database.prisma, product)).toBe(5);
    const row = await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } });
    expect(row).toMatchObject({ status: orderStatus.cancelled, statusReason: "changed my mind" });
    expect(await database.prisma.refund.findMany({ where: { orderId: order.orderId } })).toMatchObject([{ paymentId, amount: 2000n }]);
    expect(await database.prisma.stockReservation.count({ where: { orderId: order.orderId, releasedAt: null } })).toBe(0);
    expect(await database.prisma.email.findMany({ where: { eventId: cancelEvent } })).toMatchObject([{ template: "order_cancelled" }]);
    const [stats] = await statsOf(database.prisma, tenantId);
    expect(stats).toMatchObject({ ordersCreated: 1, paymentsCompleted: 1, paymentsAmount: 2000, refundsAmount: 2000 });
  });

  it("a cancel of an unpaid order restores stock and refunds nothing", async () => {
    const { tenantId, product, order } = await acceptedOrder();
    await runHandler(database.sql, "OrderCancelled", { orderId: order.orderId, tenantId, reason: "too slow", cancelledAt: now() });
    expect(await stockOf(database.prisma, product)).toBe(5);
    expect(await database.prisma.refund.count({ where: { orderId: order.orderId } })).toBe(0);
  });

  it("a failed payment puts the order back to awaiting_payment and counts the failure", async () => {
    const { tenantId, order } = await acceptedOrder();
    const paymentId = await seedPayment(database.prisma, order);
    await runHandler(database.sql, "PaymentProcessed", {
      paymentId, orderId: order.orderId, tenantId, amount: 2000, status: "failed", processedAt: now(),
    });
    expect((await database.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } })).status).toBe("failed");
    expect((await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe(orderStatus.awaitingPayment);
    expect((await statsOf(database.prisma, tenantId))[0]).toMatchObject({ paymentsFailed: 1, paymentsCompleted: 0 });
  });

  it("a payment completing after the cancel is refunded at once", async () => {
    const { tenantId, order } = await acceptedOrder();
    const paymentId = await seedPayment(database.prisma, order);
    await runHandler(database.sql, "OrderCancelled", { orderId: order.orderId, tenantId, reason: "gone", cancelledAt: now() });
    await runHandler(database.sql, "PaymentProcessed", {
      paymentId, orderId: order.orderId, tenantId, amount: 2000, status: "succeeded", processedAt: now(),
    });
    expect((await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe(orderStatus.cancelled);
    expect(await database.prisma.refund.findMany({ where: { paymentId } })).toMatchObject([{ amount: 2000n }]);
  });

  it("a second payment completing after the order was paid is refunded, and only it", async () => {
    const { tenantId, order } = await acceptedOrder();
    const first = await seedPayment(database.prisma, order);
    const second = await seedPayment(database.prisma, order);
    for (const paymentId of [first, second]) {
      await runHandler(database.sql, "PaymentProcessed", { paymentId, orderId: order.orderId, tenantId, amount: 2000, status: "succeeded", processedAt: now() });
    }
    expect((await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe(orderStatus.paid);
    expect(await database.prisma.refund.findMany({ where: { orderId: order.orderId } })).toMatchObject([
      { paymentId: second, amount: 2000n, reason: "payment completed after the order became paid" },
    ]);
    expect((await statsOf(database.prisma, tenantId))[0]).toMatchObject({ paymentsCompleted: 2, paymentsAmount: 4000, refundsAmount: 2000 });
  });

  it("an expired payment puts the order back to awaiting_payment", async () => {
    const { tenantId, order } = await acceptedOrder();
    const paymentId = await seedPayment(database.prisma, order);
    await runHandler(database.sql, "PaymentExpired", { paymentId, orderId: order.orderId, tenantId, expiredAt: now() });
    expect((await database.prisma.payment.findUniqueOrThrow({ where: { id: paymentId } })).status).toBe("expired");
    expect((await database.prisma.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe(orderStatus.awaitingPayment);
  });
});
