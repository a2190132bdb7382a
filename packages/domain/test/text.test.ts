import { describe, expect, it } from "vitest";
import { inspectJson, InvalidEventError } from "outbox-relay/events";
import { orderEvents, type OrderEventType as EventType } from "../src/index.ts";

const eventTypes = orderEvents.types;

const at = "2026-11-30T10:00:00Z";
const uuid = "8d9c2f6e-3b1a-4c5d-9e8f-0a1b2c3d4e5f";
const address = { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", address2: "Flat 2", city: "London", postalCode: "N1", country: "GB" };

/** A valid payload of every type. */
const samples: Record<EventType, Record<string, unknown>> = {
  OrderCreated: {
    orderId: "o1", orderNumber: "ORD-000001", tenantId: "t1", customerId: "c1", customerEmail: "ada@example.com", totalAmount: 2500,
    currency: "USD", items: [{ productId: "p1", quantity: 2, unitPrice: 1250 }], shippingAddress: address, billingAddress: address, createdAt: at,
  },
  OrderCancelled: { orderId: "o1", tenantId: "t1", reason: "changed my mind", cancelledAt: at },
  PaymentProcessed: { paymentId: "p1", orderId: "o1", tenantId: "t1", amount: 2500, status: "succeeded", processedAt: at },
  PaymentExpired: { paymentId: "p1", orderId: "o1", tenantId: "t1", expiredAt: at },
  UserCreated: { userId: "u1", tenantId: "t1", email: "ada@example.com", role: "customer", createdAt: at },
  ProductCreated: { productId: "p1", tenantId: "t1", name: "A book", sellerId: "s1", categoryId: "books", price: 1250, createdAt: at },
  TenantCreated: { tenantId: "t1", name: "Acme", slug: "acme", createdAt: at },
  WebhookDelivery: { endpointId: uuid, tenantId: "t1", type: "order.created", sourceEventId: uuid, data: { note: "hello", nested: { list: ["x"] } }, occurredAt: at },
};

/** Every path of a string in a value, with a setter. */
function stringPaths(value: unknown, path: string[] = []): string[][] {
  if (typeof value === "string") return [path];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, item]) => stringPaths(item, [...path, key]));
}

function withValueAt(value: unknown, path: string[], replacement: string): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let current: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) current = current[key] as Record<string, unknown>;
  current[path.at(-1)!] = replacement;
  return copy;
}

function issuesOf(type: EventType, payload: unknown): { path: string; message: string }[] {
  try {
    orderEvents.parse(type, payload);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return (error as InvalidEventError).issues;
  }
  return [];
}

describe("strings Postgres cannot store", () => {
  it("every sample is valid", () => {
    for (const type of eventTypes) expect(issuesOf(type, samples[type]), type).toEqual([]);
  });

  it.each(eventTypes)("%s refuses NUL and a lone surrogate in each of its string fields, naming it", (type) => {
    for (const path of stringPaths(samples[type])) {
      for (const bad of ["a\u0000b", "a\ud800b", "\udc00"]) {
        const issues = issuesOf(type, withValueAt(samples[type], path, bad));
        expect(issues.map((issue) => issue.path), `${type} ${path.join(".")} = ${JSON.stringify(bad)}`).toContain(path.join("."));
      }
    }
  });

  it("keeps paired surrogates (emoji) and other text", () => {
    expect(issuesOf("OrderCancelled", { ...samples.OrderCancelled, reason: "too late 😀 — ünïcode" })).toEqual([]);
  });

  it("refuses money past 2^53 - 1, and accepts amounts past 32 bits", () => {
    expect(issuesOf("PaymentProcessed", { ...samples.PaymentProcessed, amount: 4_500_000_000 })).toEqual([]);
    expect(issuesOf("PaymentProcessed", { ...samples.PaymentProcessed, amount: Number.MAX_SAFE_INTEGER })).toEqual([]);
    expect(issuesOf("PaymentProcessed", { ...samples.PaymentProcessed, amount: 2 ** 53 }).map((issue) => issue.path)).toEqual(["amount"]);
  });
});

describe("inspectJson", () => {
  it("reports unstorable strings and keys by path", () => {
    expect(inspectJson({ a: ["ok", "b\u0000"], ["k\ud800"]: 1, c: { d: "\udfff" } }).unstorable.sort()).toEqual(["a.1", "c.d", "k\ud800"]);
  });

  it("stops at the depth limit without recursion, however deep the value", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(inspectJson(deep, { maxDepth: 32 })).toEqual({ tooDeep: true, unstorable: [] });
    expect(inspectJson({ a: { b: { c: 1 } } }, { maxDepth: 3 }).tooDeep).toBe(false);
    expect(inspectJson({ a: { b: { c: {} } } }, { maxDepth: 3 }).tooDeep).toBe(true);
  });
});
