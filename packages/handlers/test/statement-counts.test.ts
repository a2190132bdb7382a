import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Connection, Database, Statement } from "outbox-relay/sql";
import { useTestDatabase } from "@outbox/testing";
import { type NewOrderEvent, orderStatus, paymentStatus } from "@outbox/domain";
import { handleBatch, jobsOf, now, publishEvents, runJobs, seedOrder, seedPayment, seedProduct, seedTenant } from "./helpers.ts";

const database = useTestDatabase();

/** The database, with every statement run on a connection it hands out counted (BEGIN and COMMIT are not). */
function countingDatabase(db: Database): { db: Database; statements: string[] } {
  const statements: string[] = [];
  const counting = (connection: Connection) =>
    new Proxy(connection, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        if (property !== "query" && property !== "execute") return value.bind(target) as unknown;
        return (statement: Statement) => {
          statements.push(statement.text.trim().split("\n")[0]!);
          return value.call(target, statement) as unknown;
        };
      },
    });
  const counted = new Proxy(db, {
    get(target, property) {
      if (property === "connect") return async () => counting(await target.connect());
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value.bind(target) as unknown) : value;
    },
  });
  return { db: counted, statements };
}

/** The statements of one batch's transaction: the events' processed mark, then the handler's. */
async function statementsOf(events: NewOrderEvent[]): Promise<string[]> {
  const jobs = await jobsOf(database.sql, await publishEvents(database.sql, events));
  const counting = countingDatabase(database.sql);
  const outcomes = await runJobs(counting.db, jobs);
  expect(outcomes.every((result) => result.outcome === "handled"), JSON.stringify(outcomes)).toBe(true);
  return counting.statements;
}

async function times<T>(n: number, make: () => Promise<T>): Promise<T[]> {
  const made: T[] = [];
  for (let i = 0; i < n; i++) made.push(await make());
  return made;
}

async function tenantWithEndpoint(): Promise<string> {
  const tenantId = await seedTenant(database.prisma);
  await database.prisma.webhookEndpoint.create({ data: { tenantId, url: "https://a.example/h", events: ["*"], secretEncrypted: "x" } });
  return tenantId;
}

/** n accepted orders of one tenant (their OrderCreated handled), each waiting on a payment of the given status. */
async function ordersWithPayments(n: number, status: string) {
  const tenantId = await tenantWithEndpoint();
  const product = await seedProduct(database.prisma, tenantId, 1000);
  const orders = await times(n, () => seedOrder(database.prisma, tenantId, [{ productId: product, quantity: 1, unitPrice: 500 }]));
  await handleBatch(database.sql, orders.map((payload) => ({ type: "OrderCreated", payload })));
  return Promise.all(orders.map(async (order) => ({ order, paymentId: await seedPayment(database.prisma, order, status) })));
}

/** Ordinary batches of each type, where every statement the handler needs for them runs. */
const cases: { type: string; statements: number; events: (n: number) => Promise<NewOrderEvent[]> }[] = [
  {
    type: "TenantCreated",
    statements: 3,
    events: (n) => times(n, async () => ({ type: "TenantCreated", payload: { tenantId: await seedTenant(database.prisma), name: "T", slug: `s-${randomUUID().slice(0, 8)}`, createdAt: now() } })),
  },
  {
    type: "UserCreated",
    statements: 3,
    events: async (n) => {
      const tenantId = await seedTenant(database.prisma);
      return times(n, async () => {
        const user = await database.prisma.user.create({ data: { tenantId, email: `${randomUUID()}@example.com`, role: "customer" } });
        return { type: "UserCreated", payload: { userId: user.id, tenantId, email: user.email, role: "customer", createdAt: now() } };
      });
    },
  },
  {
    type: "ProductCreated",
    statements: 3,
    events: async (n) => {
      const tenantId = await tenantWithEndpoint();
      return times(n, async () => ({
        type: "ProductCreated",
        payload: { productId: randomUUID(), tenantId, name: "P", sellerId: randomUUID(), categoryId: `c${n % 3}`, price: 5, createdAt: now() },
      }));
    },
  },
  {
    type: "OrderCreated",
    statements: 8,
    events: async (n) => {
      const tenantId = await tenantWithEndpoint();
      const products = await times(3, () => seedProduct(database.prisma, tenantId, 1000));
      return times(n, async () => ({
        type: "OrderCreated",
        payload: await seedOrder(database.prisma, tenantId, products.map((productId) => ({ productId, quantity: 1, unitPrice: 100 }))),
      }));
    },
  },
  {
    type: "PaymentProcessed",
    statements: 7,
    events: async (n) =>
      (await ordersWithPayments(n, paymentStatus.processing)).map(({ order, paymentId }) => ({
        type: "PaymentProcessed",
        payload: { paymentId, orderId: order.orderId, tenantId: order.tenantId, amount: order.totalAmount, status: "succeeded", processedAt: now() },
      })),
  },
  {
    type: "PaymentProcessed, refunding payments of cancelled orders",
    statements: 7,
    events: async (n) => {
      const waiting = await ordersWithPayments(n, paymentStatus.processing);
      await database.prisma.order.updateMany({ where: { id: { in: waiting.map(({ order }) => order.orderId) } }, data: { status: orderStatus.cancelled } });
      return waiting.map(({ order, paymentId }) => ({
        type: "PaymentProcessed",
        payload: { paymentId, orderId: order.orderId, tenantId: order.tenantId, amount: order.totalAmount, status: "succeeded", processedAt: now() },
      }));
    },
  },
  {
    type: "PaymentExpired",
    statements: 6,
    events: async (n) =>
      (await ordersWithPayments(n, paymentStatus.pending)).map(({ order, paymentId }) => ({
        type: "PaymentExpired",
        payload: { paymentId, orderId: order.orderId, tenantId: order.tenantId, expiredAt: now() },
      })),
  },
  {
    type: "OrderCancelled",
    statements: 8,
    events: async (n) => {
      const paid = await ordersWithPayments(n, paymentStatus.completed);
      await database.prisma.order.updateMany({ where: { id: { in: paid.map(({ order }) => order.orderId) } }, data: { status: orderStatus.paid } });
      return paid.map(({ order }) => ({ type: "OrderCancelled", payload: { orderId: order.orderId, tenantId: order.tenantId, reason: "no", cancelledAt: now() } }));
    },
  },
];

describe("a batch handler runs as many statements for 25 events as for one", () => {
  for (const { type, statements, events } of cases) {
    it(`${type}: ${statements} statements`, async () => {
      const one = await statementsOf(await events(1));
      const many = await statementsOf(await events(25));
      expect(one.length, one.join("\n")).toBe(1 + statements);
      expect(many).toEqual(one);
    });
  }
});
