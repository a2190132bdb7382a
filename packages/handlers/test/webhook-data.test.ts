import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "@outbox/testing";
import { webhookData, webhookTypes, type WebhookType } from "@outbox/domain";
import { now, runHandler, seedOrder, seedPayment, seedProduct, seedTenant } from "./helpers.ts";

const database = useTestDatabase();

interface Delivery {
  type: WebhookType;
  data: Record<string, unknown>;
}

/** The WebhookDelivery events the handlers published, in order: what each receiver is sent as `{type, data}`. */
async function deliveries(): Promise<Delivery[]> {
  const rows = await database.prisma.eventOutbox.findMany({ where: { eventType: "WebhookDelivery" }, orderBy: { createdAt: "asc" } });
  return rows.map((row) => row.payload as unknown as Delivery);
}

describe("the data the handlers send matches the schema GET /api/event-types advertises", () => {
  it("for every shop webhook type, with no field the schema leaves out", async () => {
    const tenantId = await seedTenant(database.prisma);
    await database.prisma.webhookEndpoint.create({ data: { tenantId, url: "https://example.com/hook", events: ["*"], secretEncrypted: "x" } });

    const productId = await seedProduct(database.prisma, tenantId, 5, 1000);
    await runHandler(database.sql, "ProductCreated", { productId, tenantId, name: "A book", sellerId: randomUUID(), categoryId: "books", price: 1000, createdAt: now() });

    const accepted = await seedOrder(database.prisma, tenantId, [{ productId, quantity: 2, unitPrice: 1000 }]);
    await runHandler(database.sql, "OrderCreated", accepted);
    const rejected = await seedOrder(database.prisma, tenantId, [{ productId, quantity: 99, unitPrice: 1000 }]);
    await runHandler(database.sql, "OrderCreated", rejected);

    const expiring = await seedPayment(database.prisma, accepted);
    await runHandler(database.sql, "PaymentExpired", { paymentId: expiring, orderId: accepted.orderId, tenantId, expiredAt: now() });
    const failing = await seedPayment(database.prisma, accepted);
    await runHandler(database.sql, "PaymentProcessed", { paymentId: failing, orderId: accepted.orderId, tenantId, amount: 2000, status: "failed", processedAt: now() });
    const paying = await seedPayment(database.prisma, accepted);
    await runHandler(database.sql, "PaymentProcessed", { paymentId: paying, orderId: accepted.orderId, tenantId, amount: 2000, status: "succeeded", processedAt: now() });
    await runHandler(database.sql, "OrderCancelled", { orderId: accepted.orderId, tenantId, reason: "changed my mind", cancelledAt: now() });

    const sent = await deliveries();
    expect(new Set(sent.map((delivery) => delivery.type))).toEqual(new Set(webhookTypes));
    for (const { type, data } of sent) {
      const parsed = webhookData[type].safeParse(data);
      expect(parsed.error?.issues ?? [], `${type}: ${JSON.stringify(data)}`).toEqual([]);
      // zod drops keys its schema does not name: an equal result means no undocumented field was sent.
      expect(parsed.data, type).toEqual(data);
    }
    // Both outcomes of an order and the refund of a cancel are covered, not only the happy path.
    expect(sent.filter((d) => d.type === "order.created").map((d) => d.data.status)).toEqual(["awaiting_payment", "rejected"]);
    expect(sent.find((d) => d.type === "order.created" && d.data.status === "rejected")?.data.statusReason).toEqual(expect.any(String));
    expect(sent.find((d) => d.type === "order.cancelled")?.data).toMatchObject({ refundedAmount: 2000, restoredStock: [{ productId, quantity: 2 }] });
  });
});
