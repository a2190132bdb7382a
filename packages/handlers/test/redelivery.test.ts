import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "@outbox/testing";
import { jobsOf, publishEvents, runHandler, runJobs, seedOrder, seedPayment, seedProduct, seedTenant } from "./helpers.ts";
import { snapshot } from "./snapshot.ts";
import { type NewOrderEvent } from "@outbox/domain";

const database = useTestDatabase();

/** Runs the event through the processor, then delivers the same job again (a stale duplicate). */
async function deliverTwice(event: NewOrderEvent) {
  const [eventId] = await publishEvents(database.sql, [event]);
  const job = (await jobsOf(database.sql, [eventId!]))[0]!;
  const first = await runJobs(database.sql, [job]);
  expect(first).toMatchObject([{ outcome: "handled" }]);
  const after = await snapshot(database.sql);
  const second = await runJobs(database.sql, [job]);
  expect(second).toEqual([{ id: eventId, outcome: "skipped" }]);
  expect(await snapshot(database.sql)).toEqual(after);
  return after;
}

const now = () => new Date().toISOString();

describe("the same event delivered twice changes nothing the second time", () => {
  it("for every domain handler", async () => {
    const tenantId = await seedTenant(database.prisma);
    await database.prisma.webhookEndpoint.create({ data: { tenantId, url: "https://example.com/hook", events: ["*"], secretEncrypted: "x" } });
    await deliverTwice({ type: "TenantCreated", payload: { tenantId, name: "Acme", slug: "acme-redelivery", createdAt: now() } });

    const user = await database.prisma.user.create({ data: { tenantId, email: "bo@example.com", role: "customer" } });
    await deliverTwice({ type: "UserCreated", payload: { userId: user.id, tenantId, email: user.email, role: "customer", createdAt: now() } });

    const productId = await seedProduct(database.prisma, tenantId, 5);
    const afterProduct = await deliverTwice({
      type: "ProductCreated",
      payload: { productId, tenantId, name: "A book", sellerId: randomUUID(), categoryId: "books", price: 1000, createdAt: now() },
    });
    expect(afterProduct.category_product_counts).toMatchObject([{ product_count: 1 }]);

    const order = await seedOrder(database.prisma, tenantId, [{ productId, quantity: 2, unitPrice: 1000 }]);
    const afterOrder = await deliverTwice({ type: "OrderCreated", payload: order });
    expect(afterOrder.products).toMatchObject([{ stock: 3 }]);
    expect(afterOrder.tenant_daily_stats).toMatchObject([{ orders_created: 1 }]);

    const expiring = await seedPayment(database.prisma, order);
    await deliverTwice({ type: "PaymentExpired", payload: { paymentId: expiring, orderId: order.orderId, tenantId, expiredAt: now() } });

    const paying = await seedPayment(database.prisma, order);
    const afterPayment = await deliverTwice({
      type: "PaymentProcessed",
      payload: { paymentId: paying, orderId: order.orderId, tenantId, amount: 2000, status: "succeeded", processedAt: now() },
    });
    expect(afterPayment.tenant_daily_stats).toMatchObject([{ payments_completed: 1, payments_amount: 2000 }]);

    const afterCancel = await deliverTwice({ type: "OrderCancelled", payload: { orderId: order.orderId, tenantId, reason: "no", cancelledAt: now() } });
    expect(afterCancel.products).toMatchObject([{ stock: 5 }]);
    expect(afterCancel.refunds).toMatchObject([{ amount: 2000 }]);
    expect(afterCancel.tenant_daily_stats).toMatchObject([{ orders_cancelled: 1, refunds_amount: 2000 }]);
    // One delivery per webhook-bearing event (product, order, expiry, payment, cancel).
    expect(await database.prisma.eventOutbox.count({ where: { eventType: "WebhookDelivery" } })).toBe(5);
  });
});

describe("UserCreated, ProductCreated, TenantCreated and webhook fan-out", () => {
  it("writes a profile with defaults and a welcome email", async () => {
    const tenantId = await seedTenant(database.prisma);
    const user = await database.prisma.user.create({ data: { tenantId, email: "cy@example.com", role: "seller" } });
    const eventId = await runHandler(database.sql, "UserCreated", { userId: user.id, tenantId, email: user.email, role: "seller", createdAt: now() });
    expect(await database.prisma.userProfile.findUnique({ where: { userId: user.id } })).toMatchObject({ preferences: { language: "en", orderUpdates: true } });
    expect(await database.prisma.email.findMany({ where: { eventId } })).toMatchObject([{ recipient: "cy@example.com", template: "welcome" }]);
  });

  it("writes default tenant settings and the onboarding email", async () => {
    const tenantId = await seedTenant(database.prisma);
    const eventId = await runHandler(database.sql, "TenantCreated", { tenantId, name: "Acme", slug: "acme", createdAt: now() });
    expect(await database.prisma.tenantSettings.findUnique({ where: { tenantId } })).toMatchObject({ currency: "USD", timezone: "UTC" });
    expect(await database.prisma.email.findMany({ where: { eventId } })).toMatchObject([{ recipient: "onboarding@example.com", template: "tenant_onboarding" }]);
  });

  it("counts products per category and publishes one delivery per enabled, subscribed endpoint", async () => {
    const tenantId = await seedTenant(database.prisma);
    const other = await seedTenant(database.prisma);
    const subscribed = await database.prisma.webhookEndpoint.create({ data: { tenantId, url: "https://a.example/h", events: ["product.created"], secretEncrypted: "x" } });
    const everything = await database.prisma.webhookEndpoint.create({ data: { tenantId, url: "https://b.example/h", events: ["*"], secretEncrypted: "x" } });
    await database.prisma.webhookEndpoint.create({ data: { tenantId, url: "https://c.example/h", events: ["order.created"], secretEncrypted: "x" } });
    await database.prisma.webhookEndpoint.create({ data: { tenantId, url: "https://d.example/h", events: ["*"], secretEncrypted: "x", enabled: false } });
    await database.prisma.webhookEndpoint.create({ data: { tenantId: other, url: "https://e.example/h", events: ["*"], secretEncrypted: "x" } });

    const product = (categoryId: string) => ({ productId: randomUUID(), tenantId, name: "P", sellerId: randomUUID(), categoryId, price: 5, createdAt: now() });
    const eventId = await runHandler(database.sql, "ProductCreated", product("games"));
    await runHandler(database.sql, "ProductCreated", product("games"));
    await runHandler(database.sql, "ProductCreated", product("toys"));

    const counts = await database.prisma.categoryProductCount.findMany({ where: { tenantId }, orderBy: { categoryId: "asc" } });
    expect(counts.map((c) => [c.categoryId, c.productCount])).toEqual([["games", 2], ["toys", 1]]);
    const deliveries = await database.prisma.eventOutbox.findMany({ where: { causationId: eventId } });
    expect(deliveries.map((d) => (d.payload as { endpointId: string }).endpointId).sort()).toEqual([subscribed.id, everything.id].sort());
    expect(deliveries[0]).toMatchObject({ eventType: "WebhookDelivery", tenantId, payload: { type: "product.created", sourceEventId: eventId } });
  });
});
