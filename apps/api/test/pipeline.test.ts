import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { domainHandlers } from "@outbox/handlers";
import { createLogger } from "outbox-relay/logger";
import { createTestRedis, waitFor, type TestRedis } from "@outbox/testing";
import { startWorker, type RunningWorker } from "@outbox/worker";
import { buildSettlement } from "@outbox/handlers";
import { admin, get, orderBody, post, seedShop, startApi, workerConfigFor, type ApiHarness } from "./helpers.ts";

let api: ApiHarness;
let redis: TestRedis;
let worker: RunningWorker;

beforeAll(async () => {
  api = await startApi();
  redis = createTestRedis();
  const config = workerConfigFor(api, redis);
  worker = await startWorker({ config, handlers: domainHandlers, logger: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  await worker.stop();
  await redis.clean();
  await api.close();
});

async function eventProcessed(eventId: string) {
  return waitFor(async () => {
    const event = await get(api.app, `/api/events/${eventId}`, admin);
    return event.body.status === "processed" ? event.body : undefined;
  }, { message: `event ${eventId} processed` });
}

describe("through HTTP and the real pipeline", () => {
  it("an order is reserved, paid, then cancelled with its stock restored once and a refund", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app, { stock: 5, price: 1250 });
    const created = await post(api.app, "/api/orders", orderBody(tenantId, productId, 2), { ...auth, "idempotency-key": randomUUID() });
    expect(created.status).toBe(201);
    await eventProcessed(created.body.eventId);

    const order = await get(api.app, `/api/orders/${created.body.id}`, auth);
    expect(order.body).toMatchObject({ status: "awaiting_payment", totalAmount: 2500 });
    expect((await get(api.app, `/api/products/${productId}`, auth)).body.stock).toBe(3);
    expect(await api.prisma.email.findMany({ where: { eventId: created.body.eventId } })).toMatchObject([
      { template: "order_confirmation", recipient: "ada@example.com", status: "pending" },
    ]);
    // TenantCreated ran too: the tenant has its default settings.
    await waitFor(() => api.prisma.tenantSettings.findUnique({ where: { tenantId } }), { message: "tenant settings" });

    const payment = await post(api.app, "/api/payments", { orderId: created.body.id, amount: 2500 }, auth);
    const complete = await post(api.app, `/api/payments/${payment.body.id}/complete`, { succeeded: true }, auth);
    await eventProcessed(complete.body.eventId);
    expect((await get(api.app, `/api/orders/${created.body.id}`, auth)).body.status).toBe("paid");

    const cancel = await post(api.app, `/api/orders/${created.body.id}/cancel`, { reason: "changed my mind" }, auth);
    expect(cancel.status).toBe(202);
    await eventProcessed(cancel.body.eventId);
    expect((await post(api.app, `/api/orders/${created.body.id}/cancel`, { reason: "again" }, auth)).status).toBe(409);

    const cancelled = await get(api.app, `/api/orders/${created.body.id}`, auth);
    expect(cancelled.body).toMatchObject({ status: "cancelled", refunds: [{ paymentId: payment.body.id, amount: 2500 }] });
    expect((await get(api.app, `/api/products/${productId}`, auth)).body.stock).toBe(5);
    const [stats] = await api.prisma.tenantDailyStats.findMany({ where: { tenantId } });
    expect(stats).toMatchObject({ ordersCreated: 1, grossAmount: 2500n, paymentsCompleted: 1, ordersCancelled: 1, refundsAmount: 2500n });
  });

  it("orders beyond the stock are rejected with the reason", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app, { stock: 3 });
    const answers = await Promise.all(Array.from({ length: 6 }, () => post(api.app, "/api/orders", orderBody(tenantId, productId, 1), auth)));
    for (const answer of answers) await eventProcessed(answer.body.eventId);
    const orders = await api.prisma.order.findMany({ where: { tenantId } });
    expect(orders.filter((o) => o.status === "awaiting_payment")).toHaveLength(3);
    const rejected = orders.filter((o) => o.status === "rejected");
    expect(rejected).toHaveLength(3);
    expect(rejected[0]!.statusReason).toContain("insufficient stock");
    expect((await get(api.app, `/api/products/${productId}`, auth)).body.stock).toBe(0);
  });

  it("three orders of 1,500,000,000 cents in a day are all processed, paid, one cancelled, and the settlement is right", async () => {
    const price = 1_500_000_000;
    const { tenantId, productId, auth } = await seedShop(api.app, { stock: 3, price });
    const day = new Date().toISOString().slice(0, 10);
    const orders = [];
    for (let i = 0; i < 3; i++) {
      const created = await post(api.app, "/api/orders", orderBody(tenantId, productId, 1, price), auth);
      expect(created.body).toMatchObject({ status: "pending", totalAmount: price });
      orders.push(created.body);
    }
    for (const order of orders) await eventProcessed(order.eventId);
    for (const order of orders) {
      expect((await get(api.app, `/api/orders/${order.id}`, auth)).body).toMatchObject({ status: "awaiting_payment", totalAmount: price });
      const payment = await post(api.app, "/api/payments", { orderId: order.id, amount: price }, auth);
      expect(payment.body).toMatchObject({ status: "pending", amount: price });
      await eventProcessed((await post(api.app, `/api/payments/${payment.body.id}/complete`, { succeeded: true }, auth)).body.eventId);
    }
    const cancel = await post(api.app, `/api/orders/${orders[0]!.id}/cancel`, { reason: "too dear" }, auth);
    await eventProcessed(cancel.body.eventId);
    expect((await get(api.app, `/api/orders/${orders[0]!.id}`, auth)).body).toMatchObject({ status: "cancelled", refunds: [{ amount: price }] });

    const [stats] = await api.prisma.tenantDailyStats.findMany({ where: { tenantId } });
    expect(stats).toMatchObject({ ordersCreated: 3, grossAmount: 4_500_000_000n, paymentsCompleted: 3, paymentsAmount: 4_500_000_000n, refundsAmount: 1_500_000_000n });
    const settlement = (await buildSettlement(api.sql, day)).find((row) => row.tenantId === tenantId);
    // Cancelled orders still count as sold that day; the refund takes the money back.
    expect(settlement).toEqual({ tenantId, day, orders: 3, grossAmount: 4_500_000_000, paymentsCompleted: 3, refundsAmount: price, netAmount: 3_000_000_000 });
  });
});
