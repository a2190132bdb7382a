import { describe, expect, it } from "vitest";
import { InvalidEventError, queueNames } from "outbox-relay/events";
import { orderEvents } from "../src/index.ts";

const policyOf = (type: string) => orderEvents.policyOf(type);

describe("the order domain's event catalog", () => {
  it("orders priorities as DESIGN fixes them (1 is BullMQ's highest)", () => {
    const order = ["OrderCreated", "OrderCancelled", "PaymentProcessed", "UserCreated", "ProductCreated", "TenantCreated"] as const;
    const priorities = order.map((type) => policyOf(type).priority);
    expect([...priorities].sort((a, b) => a - b)).toEqual(priorities);
    expect(new Set(priorities).size).toBe(order.length);
  });

  it("retries 3 times from 2 s by default; webhook deliveries on their own queue, unordered, retries below first attempts, up to the 10 runs any retry schedule may ask", () => {
    for (const type of orderEvents.types.filter((t) => t !== "WebhookDelivery")) {
      expect(policyOf(type)).toMatchObject({ queue: queueNames.events, attempts: 3, backoffMs: 2000, ordered: true });
    }
    expect(policyOf("WebhookDelivery")).toMatchObject({ queue: queueNames.webhooks, attempts: 10, priority: 5, retryPriority: 50, ordered: false });
    expect(orderEvents.unorderedTypes).toEqual(["WebhookDelivery"]);
  });

  it("puts payment events on their order's aggregate", () => {
    const payment = orderEvents.parse("PaymentProcessed", {
      paymentId: "p1", orderId: "o1", tenantId: "t1", amount: 100, status: "succeeded", processedAt: "2026-11-23T10:00:00Z",
    });
    expect(orderEvents.aggregateOf("PaymentProcessed", payment)).toEqual({ type: "order", id: "o1" });
  });

  it("names every failing field of a bad payload, and refuses unknown types", () => {
    const error = (() => {
      try {
        orderEvents.parse("OrderCreated", { orderId: "o1", items: [], totalAmount: -1, currency: "dollars", shippingAddress: { country: "ZZ" } });
      } catch (caught) {
        return caught as InvalidEventError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidEventError);
    const paths = error!.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["items", "totalAmount", "currency", "shippingAddress.country", "customerEmail"]));
    expect(error!.message).toMatch(/shippingAddress\.country is not an ISO 3166 country code/);
    expect(() => orderEvents.parse("OrderShipped", {})).toThrow(/event_type is not a known event type/);
  });
});
