import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PrismaClient } from "@outbox/db";
import { useTestDatabase, type TestDatabaseHandle } from "@outbox/testing";
import { type NewOrderEvent, orderStatus } from "@outbox/domain";
import { handleBatch, recordingCalls } from "./helpers.ts";
import { snapshot } from "./snapshot.ts";

// The same world in two databases: one runs each type's events as one batch, the other one at a time.
const batched = useTestDatabase();
const oneByOne = useTestDatabase();

/** Values set by now() or gen_random_uuid(), or by Prisma's client-side uuid(): compared only as set or not. */
const volatile = ["id", "created_at", "updated_at", "released_at", "occurredAt"];

const ids: Record<string, string> = {};
const id = (name: string) => (ids[name] ??= randomUUID());
const withId = (event: NewOrderEvent): NewOrderEvent => ({ ...event, id: randomUUID() });
const day1 = "2026-11-28T10:00:00.000Z";
const day2 = "2026-11-29T23:59:00.000Z";
const address = { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1", country: "GB" };

interface OrderSpec {
  name: string;
  tenant: string;
  items: [product: string, quantity: number][];
  createdAt: string;
  status?: string;
}

// Stock: s 3 and r 10 (tenant t1), x 2 (tenant t2). o7 was cancelled before its OrderCreated ran.
const orders: OrderSpec[] = [
  { name: "o1", tenant: "t1", items: [["s", 2], ["r", 1]], createdAt: day1 },
  { name: "o2", tenant: "t1", items: [["s", 2]], createdAt: day1 },
  { name: "o3", tenant: "t1", items: [["s", 1], ["r", 5]], createdAt: day1 },
  { name: "o4", tenant: "t1", items: [["r", 5]], createdAt: day2 },
  { name: "o5", tenant: "t2", items: [["x", 2]], createdAt: day2 },
  { name: "o6", tenant: "t2", items: [["s", 1]], createdAt: day2 },
  { name: "o7", tenant: "t1", items: [["r", 1]], createdAt: day2, status: orderStatus.cancelled },
];
const spec = (name: string) => orders.find((order) => order.name === name)!;
const totalOf = (order: OrderSpec) => order.items.reduce((sum, [, quantity]) => sum + quantity * 100, 0);

async function seedWorld(prisma: PrismaClient): Promise<void> {
  await prisma.tenant.createMany({ data: [{ id: id("t1"), name: "One", slug: "one" }, { id: id("t2"), name: "Two", slug: "two" }] });
  await prisma.webhookEndpoint.createMany({
    data: [
      { id: id("e1"), tenantId: id("t1"), url: "https://a.example/h", events: ["*"], secretEncrypted: "x" },
      { id: id("e2"), tenantId: id("t1"), url: "https://b.example/h", events: ["order.created", "payment.failed"], secretEncrypted: "x" },
      { id: id("e3"), tenantId: id("t2"), url: "https://c.example/h", events: ["payment.completed", "product.created"], secretEncrypted: "x" },
    ],
  });
  await prisma.user.createMany({
    data: [
      { id: id("u1"), tenantId: id("t1"), email: "u1@example.com", role: "customer" },
      { id: id("u2"), tenantId: id("t1"), email: "u2@example.com", role: "seller" },
      { id: id("u3"), tenantId: id("t2"), email: "u3@example.com", role: "customer" },
    ],
  });
  const product = (name: string, tenant: string, categoryId: string, stock: number) =>
    ({ id: id(name), tenantId: id(tenant), sellerId: id("seller"), categoryId, name, price: 100, stock });
  await prisma.product.createMany({ data: [product("s", "t1", "books", 3), product("r", "t1", "books", 10), product("x", "t2", "toys", 2)] });
  for (const order of orders) {
    await prisma.order.create({
      data: {
        id: id(order.name), tenantId: id(order.tenant), orderNumber: `ORD-${order.name}`, customerId: id("customer"),
        customerEmail: `${order.name}@example.com`, status: order.status ?? orderStatus.pending, totalAmount: totalOf(order),
        currency: "USD", shippingAddress: address, createdAt: new Date(order.createdAt),
        items: { create: order.items.map(([productId, quantity]) => ({ productId: id(productId), quantity, unitPrice: 100 })) },
      },
    });
  }
}

/** Payments the API opened; an order that `waits` is payment_pending. */
async function openPayments(prisma: PrismaClient, payments: { name: string; order: string; waits: boolean }[]): Promise<void> {
  for (const payment of payments) {
    const order = spec(payment.order);
    await prisma.payment.create({ data: { id: id(payment.name), tenantId: id(order.tenant), orderId: id(order.name), amount: totalOf(order) } });
    if (payment.waits) await prisma.order.update({ where: { id: id(order.name) }, data: { status: orderStatus.paymentPending } });
  }
}

const orderCreated = (order: OrderSpec): NewOrderEvent => ({
  type: "OrderCreated",
  payload: {
    orderId: id(order.name), orderNumber: `ORD-${order.name}`, tenantId: id(order.tenant), customerId: id("customer"),
    customerEmail: `${order.name}@example.com`, totalAmount: totalOf(order), currency: "USD",
    items: order.items.map(([productId, quantity]) => ({ productId: id(productId), quantity, unitPrice: 100 })),
    shippingAddress: address, createdAt: order.createdAt,
  },
});
const tenantCreated = (tenant: string): NewOrderEvent => ({ type: "TenantCreated", payload: { tenantId: id(tenant), name: tenant, slug: tenant, createdAt: day1 } });
const userCreated = (user: string, tenant: string): NewOrderEvent => ({
  type: "UserCreated",
  payload: { userId: id(user), tenantId: id(tenant), email: `${user}@example.com`, role: "customer", createdAt: day1 },
});
const productCreated = (product: string, tenant: string, categoryId: string, createdAt: string): NewOrderEvent => ({
  type: "ProductCreated",
  payload: { productId: id(product), tenantId: id(tenant), name: product, sellerId: id("seller"), categoryId, price: 100, createdAt },
});
const paymentProcessed = (payment: string, order: string, status: "succeeded" | "failed", processedAt: string): NewOrderEvent => ({
  type: "PaymentProcessed",
  payload: { paymentId: id(payment), orderId: id(order), tenantId: id(spec(order).tenant), amount: totalOf(spec(order)), status, processedAt },
});
const paymentExpired = (payment: string, order: string): NewOrderEvent => ({
  type: "PaymentExpired",
  payload: { paymentId: id(payment), orderId: id(order), tenantId: id(spec(order).tenant), expiredAt: day2 },
});
const orderCancelled = (order: string, reason: string, cancelledAt: string): NewOrderEvent => ({
  type: "OrderCancelled",
  payload: { orderId: id(order), tenantId: id(spec(order).tenant), reason, cancelledAt },
});

interface Phase {
  type: string;
  prepare?: (prisma: PrismaClient) => Promise<void>;
  events: NewOrderEvent[];
}

/** Each type's events, duplicates and conflicts included, in the order the pipeline could run them. */
const phases: Phase[] = ([
  { type: "TenantCreated", events: [tenantCreated("t1"), tenantCreated("t2"), tenantCreated("t1")] },
  { type: "UserCreated", events: [userCreated("u1", "t1"), userCreated("u2", "t1"), userCreated("u3", "t2"), userCreated("u1", "t1")] },
  {
    type: "ProductCreated",
    events: [productCreated("s", "t1", "books", day1), productCreated("r", "t1", "books", day1), productCreated("x", "t2", "toys", day2), productCreated("p4", "t1", "books", day2)],
  },
  { type: "OrderCreated", events: [...orders.map(orderCreated), orderCreated(spec("o1"))] },
  {
    type: "PaymentProcessed",
    prepare: (prisma) => openPayments(prisma, [
      { name: "pay1", order: "o1", waits: true },
      { name: "pay2", order: "o1", waits: true },
      { name: "pay3", order: "o3", waits: true },
      { name: "pay4", order: "o5", waits: true },
      { name: "pay5", order: "o7", waits: false },
    ]),
    events: [
      paymentProcessed("pay1", "o1", "succeeded", day1),
      paymentProcessed("pay2", "o1", "succeeded", day1),
      paymentProcessed("pay3", "o3", "failed", day2),
      paymentProcessed("pay4", "o5", "succeeded", day2),
      paymentProcessed("pay4", "o5", "failed", day2),
      paymentProcessed("pay5", "o7", "succeeded", day2),
    ],
  },
  {
    type: "PaymentExpired",
    prepare: (prisma) => openPayments(prisma, [{ name: "pay6", order: "o3", waits: true }, { name: "pay7", order: "o5", waits: false }]),
    events: [paymentExpired("pay6", "o3"), paymentExpired("pay7", "o5"), paymentExpired("pay6", "o3")],
  },
  {
    type: "OrderCancelled",
    events: [
      orderCancelled("o1", "changed my mind", day1),
      orderCancelled("o3", "too slow", day2),
      orderCancelled("o1", "asked again", day2),
      orderCancelled("o2", "never mind", day2),
      orderCancelled("o5", "gone", day2),
    ],
  },
] satisfies Phase[]).map((phase) => ({ ...phase, events: phase.events.map(withId) }));

async function stateOf(database: TestDatabaseHandle) {
  return snapshot(database.sql, { volatile });
}

describe("a batch handler does what the same events do one at a time", () => {
  it("for every domain event type, with competing orders, duplicates and payments of one order", async () => {
    await seedWorld(batched.prisma);
    await seedWorld(oneByOne.prisma);
    for (const phase of phases) {
      await phase.prepare?.(batched.prisma);
      await phase.prepare?.(oneByOne.prisma);
      const calls: Record<string, number[]> = {};
      await handleBatch(batched.sql, phase.events, recordingCalls(calls));
      for (const event of phase.events) await handleBatch(oneByOne.sql, [event]);

      expect(calls[phase.type], phase.type).toEqual([phase.events.length]);
      expect(await stateOf(batched), `after ${phase.type}`).toEqual(await stateOf(oneByOne));
    }

    // The world went through every branch: every reservation given back, and four refunds.
    const products = await batched.prisma.product.findMany({ orderBy: { name: "asc" } });
    expect(products.map((p) => [p.name, p.stock])).toEqual([["r", 10], ["s", 3], ["x", 2]]);
    const refunds = await batched.prisma.refund.findMany();
    expect(refunds.map((r) => r.paymentId).sort()).toEqual([id("pay1"), id("pay2"), id("pay4"), id("pay5")].sort());
    const statuses = await batched.prisma.order.findMany({ select: { orderNumber: true, status: true, statusReason: true }, orderBy: { orderNumber: "asc" } });
    expect(statuses).toEqual([
      { orderNumber: "ORD-o1", status: "cancelled", statusReason: "asked again" },
      { orderNumber: "ORD-o2", status: "cancelled", statusReason: "never mind" },
      { orderNumber: "ORD-o3", status: "cancelled", statusReason: "too slow" },
      { orderNumber: "ORD-o4", status: "rejected", statusReason: `insufficient stock: product ${id("r")} requested 5, available 4` },
      { orderNumber: "ORD-o5", status: "cancelled", statusReason: "gone" },
      { orderNumber: "ORD-o6", status: "rejected", statusReason: `insufficient stock: product ${id("s")} requested 1, available 0` },
      { orderNumber: "ORD-o7", status: "cancelled", statusReason: null },
    ]);
  });
});
