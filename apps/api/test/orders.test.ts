import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows, get, orderBody, post, seedShop, startApi, type ApiHarness } from "./helpers.ts";

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api.close();
});

describe("POST /api/orders", () => {
  it("writes a pending order with a server-computed total, its items and its OrderCreated event", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const created = await post(api.app, "/api/orders", orderBody(tenantId, productId, 3), auth);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "pending", totalAmount: 3750, currency: "USD" });
    expect(created.body.orderNumber).toMatch(/^ORD-\d{6,}$/);
    const second = await post(api.app, "/api/orders", orderBody(tenantId, productId, 1), auth);
    expect(second.body.orderNumber).toMatch(/^ORD-\d{6,}$/);
    expect(Number(second.body.orderNumber.slice(4))).toBeGreaterThan(Number(created.body.orderNumber.slice(4)));

    const event = await get(api.app, `/api/events/${created.body.eventId}`, auth);
    expect(event.status).toBe(200);
    expect(event.body).toMatchObject({ id: created.body.eventId, type: "OrderCreated", status: "pending", attempts: 0, lastError: null });
    expect(event.body.payload).toMatchObject({ orderId: created.body.id, totalAmount: 3750, items: [{ productId, quantity: 3, unitPrice: 1250 }] });

    const order = await get(api.app, `/api/orders/${created.body.id}`, auth);
    expect(order.body).toMatchObject({ id: created.body.id, status: "pending", items: [{ productId, quantity: 3 }], payments: [] });
  });

  it("replays the first answer for the same Idempotency-Key and body, and creates nothing more", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const body = orderBody(tenantId, productId);
    const key = randomUUID();
    const first = await post(api.app, "/api/orders", body, { ...auth, "idempotency-key": key });
    const before = await countRows(api.prisma);
    // The same body with its keys in another order is the same request.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const replay = await post(api.app, "/api/orders", reordered, { ...auth, "idempotency-key": key });
    expect(replay.status).toBe(first.status);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    expect(await countRows(api.prisma)).toEqual(before);
  });

  it("answers 409 for the same Idempotency-Key with another body", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const key = randomUUID();
    await post(api.app, "/api/orders", orderBody(tenantId, productId, 1), { ...auth, "idempotency-key": key });
    const before = await countRows(api.prisma);
    const reused = await post(api.app, "/api/orders", orderBody(tenantId, productId, 2), { ...auth, "idempotency-key": key });
    expect(reused.status).toBe(409);
    expect(reused.body).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    expect(reused.body.error).toContain(key);
    expect(await countRows(api.prisma)).toEqual(before);
  });

  it("creates one order for concurrent requests with the same Idempotency-Key", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const body = orderBody(tenantId, productId);
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(api.app, "/api/orders", body, { ...auth, "idempotency-key": key })));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([201]));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await api.prisma.order.count({ where: { tenantId } })).toBe(1);
    expect(await api.prisma.eventOutbox.count({ where: { eventType: "OrderCreated", tenantId } })).toBe(1);
  });

  it("refuses a unit price that is not the product's price", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const before = await countRows(api.prisma);
    const answer = await post(api.app, "/api/orders", orderBody(tenantId, productId, 1, 1), auth);
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: "PRICE_MISMATCH", issues: [{ path: "items.0.unitPrice" }] });
    expect(await countRows(api.prisma)).toEqual(before);
  });
});

describe("cancel and payments", () => {
  async function acceptedOrder() {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const order = await post(api.app, "/api/orders", orderBody(tenantId, productId), auth);
    // The OrderCreated handler's outcome, done by hand: these tests are about the API's checks.
    await api.prisma.order.update({ where: { id: order.body.id }, data: { status: "awaiting_payment" } });
    return { ...(order.body as { id: string; totalAmount: number }), auth };
  }

  it("cancels once; a second cancel and a payment for the cancelled order answer 409 with the reason", async () => {
    const order = await acceptedOrder();
    const { auth } = order;
    const cancel = await post(api.app, `/api/orders/${order.id}/cancel`, { reason: "changed my mind" }, auth);
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ status: "cancelled" });
    expect(await api.prisma.eventOutbox.count({ where: { id: cancel.body.eventId, eventType: "OrderCancelled" } })).toBe(1);

    const before = await countRows(api.prisma);
    const again = await post(api.app, `/api/orders/${order.id}/cancel`, { reason: "again" }, auth);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "ORDER_ALREADY_CANCELLED" });
    expect(again.body.error).toContain("changed my mind");
    const payment = await post(api.app, "/api/payments", { orderId: order.id, amount: order.totalAmount }, auth);
    expect(payment.status).toBe(409);
    expect(payment.body).toMatchObject({ code: "ORDER_CANCELLED" });
    expect(payment.body.error).toContain("cancelled");
    expect(await countRows(api.prisma)).toEqual(before);
  });

  it("opens a payment for the order total, completes it once, and refuses what does not fit", async () => {
    const order = await acceptedOrder();
    const { auth } = order;
    const wrongAmount = await post(api.app, "/api/payments", { orderId: order.id, amount: order.totalAmount - 1 }, auth);
    expect(wrongAmount.status).toBe(400);
    expect(wrongAmount.body.issues).toEqual([{ path: "amount", message: `must equal the order total ${order.totalAmount}` }]);

    const payment = await post(api.app, "/api/payments", { orderId: order.id, amount: order.totalAmount }, auth);
    expect(payment.status).toBe(201);
    expect(payment.body).toMatchObject({ status: "pending", amount: order.totalAmount });
    expect((await get(api.app, `/api/orders/${order.id}`, auth)).body.status).toBe("payment_pending");
    expect((await post(api.app, "/api/payments", { orderId: order.id, amount: order.totalAmount }, auth)).body.code).toBe("PAYMENT_IN_PROGRESS");

    const complete = await post(api.app, `/api/payments/${payment.body.id}/complete`, { succeeded: true }, auth);
    expect(complete.status).toBe(202);
    const event = await api.prisma.eventOutbox.findUniqueOrThrow({ where: { id: complete.body.eventId } });
    expect(event).toMatchObject({ eventType: "PaymentProcessed", payload: { paymentId: payment.body.id, status: "succeeded", amount: order.totalAmount } });
    const twice = await post(api.app, `/api/payments/${payment.body.id}/complete`, { succeeded: true }, auth);
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ code: "PAYMENT_NOT_PENDING" });
  });

  it("answers 409 for a payment before the order's stock is reserved", async () => {
    const { tenantId, productId, auth } = await seedShop(api.app);
    const order = await post(api.app, "/api/orders", orderBody(tenantId, productId), auth);
    const payment = await post(api.app, "/api/payments", { orderId: order.body.id, amount: order.body.totalAmount }, auth);
    expect(payment.status).toBe(409);
    expect(payment.body.code).toBe("ORDER_NOT_READY");
  });
});
