import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@outbox/db";
import { createLogger } from "outbox-relay/logger";
import { batch, type BatchHandler, type HandlerMap } from "outbox-relay/processor";
import { eventJobs, handleEvents, runJobs as runOrderJobs, type EventJob, type HandledResult } from "outbox-relay/testing";
import { orderEvents, orderStatus, type NewOrderEvent, type OrderEventPayload, type OrderEvents, type OrderEventType } from "@outbox/domain";
import type { Database } from "outbox-relay/sql";
import { domainHandlers } from "../src/index.ts";

export const logger = createLogger({ level: "silent" });

/** Writes events as a producer does: pending outbox rows, in one transaction. Returns their ids. */
export async function publishEvents(db: Database, events: readonly NewOrderEvent[]): Promise<string[]> {
  return db.transaction((tx) => orderEvents.publishMany(tx, events));
}

/** outbox-relay/testing's options for the order catalog: these handlers (default the domain's), a silent logger. */
const orderTest = (db: Database, handlers: HandlerMap<OrderEvents> = domainHandlers) => ({ db, catalog: orderEvents, handlers, logger });

/** The jobs the relay would queue for these outbox rows, in the order given. */
export function jobsOf(db: Database, eventIds: readonly string[]): Promise<EventJob[]> {
  return eventJobs(orderTest(db), eventIds);
}

/** Runs jobs as the processor does: one transaction, their marks first, one call per type, savepoints on failure. */
export function runJobs(db: Database, jobs: EventJob[], handlers: HandlerMap<OrderEvents> = domainHandlers): Promise<HandledResult[]> {
  return runOrderJobs(orderTest(db, handlers), jobs);
}

/** Publishes the events and runs them as one batch; throws unless every one was handled. Returns their ids. */
export async function handleBatch(db: Database, events: readonly NewOrderEvent[], handlers: HandlerMap<OrderEvents> = domainHandlers): Promise<string[]> {
  const results = await handleEvents(orderTest(db, handlers), events);
  for (const result of results) {
    if (result.outcome === "retry" || result.outcome === "dead") throw result.error;
    if (result.outcome !== "handled") throw new Error(`an event was ${result.outcome}`);
  }
  return results.map((result) => result.id);
}

/** Publishes one event and runs it through the processor's batch path. Returns its id. */
export async function runHandler<T extends OrderEventType>(db: Database, type: T, payload: OrderEventPayload<T>, handlers: HandlerMap = domainHandlers): Promise<string> {
  const [id] = await handleBatch(db, [{ type, payload } as NewOrderEvent], handlers);
  return id!;
}

/** The domain handlers, recording the number of events each batch call got, by type. */
export function recordingCalls(calls: Record<string, number[]>, handlers: HandlerMap = domainHandlers): HandlerMap {
  const recording = ([type, handler]: [string, unknown]) => {
    const inner = handler as BatchHandler;
    return [type, batch((context) => {
      (calls[type] ??= []).push(context.events.length);
      return inner.run(context);
    })];
  };
  return Object.fromEntries(Object.entries(handlers).map(recording)) as HandlerMap;
}

export async function seedTenant(prisma: PrismaClient, name = "Acme", id: string = randomUUID()): Promise<string> {
  const tenant = await prisma.tenant.create({ data: { id, name, slug: `t-${randomUUID().slice(0, 12)}` } });
  return tenant.id;
}

export async function seedProduct(prisma: PrismaClient, tenantId: string, stock: number, price = 1000, id: string = randomUUID()): Promise<string> {
  const product = await prisma.product.create({
    data: { id, tenantId, sellerId: randomUUID(), categoryId: "books", name: "A book", price, stock },
  });
  return product.id;
}

export const address = { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1", country: "GB" };

export interface SeedOrderOptions {
  id?: string;
  orderNumber?: string;
  createdAt?: Date;
}

/** A `pending` order as the API writes it, and the OrderCreated payload the API publishes with it. */
export async function seedOrder(
  prisma: PrismaClient,
  tenantId: string,
  items: { productId: string; quantity: number; unitPrice: number }[],
  { id = randomUUID(), orderNumber, createdAt = new Date() }: SeedOrderOptions = {},
): Promise<OrderEventPayload<"OrderCreated">> {
  const number = orderNumber ?? (await nextOrderNumber(prisma));
  const totalAmount = items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  const customerId = "00000000-0000-4000-8000-000000000001";
  const order = await prisma.order.create({
    data: {
      id,
      tenantId,
      orderNumber: number,
      customerId,
      customerEmail: "ada@example.com",
      status: orderStatus.pending,
      totalAmount,
      currency: "USD",
      shippingAddress: address,
      createdAt,
      items: { create: items },
    },
  });
  return {
    orderId: order.id,
    orderNumber: number,
    tenantId,
    customerId,
    customerEmail: order.customerEmail,
    totalAmount,
    currency: "USD",
    items,
    shippingAddress: address,
    createdAt: order.createdAt.toISOString(),
  };
}

async function nextOrderNumber(prisma: PrismaClient): Promise<string> {
  const [next] = await prisma.$queryRaw<{ value: number }[]>`SELECT nextval('order_number_seq')::int AS value`;
  return `ORD-${String(next!.value).padStart(6, "0")}`;
}

/** A payment the API opened: the order waits on it (`payment_pending`). */
export async function seedPayment(prisma: PrismaClient, order: OrderEventPayload<"OrderCreated">, status = "pending", id: string = randomUUID()): Promise<string> {
  const payment = await prisma.payment.create({ data: { id, tenantId: order.tenantId, orderId: order.orderId, amount: order.totalAmount, status } });
  await prisma.order.update({ where: { id: order.orderId }, data: { status: orderStatus.paymentPending } });
  return payment.id;
}

export async function stockOf(prisma: PrismaClient, productId: string): Promise<number> {
  return (await prisma.product.findUniqueOrThrow({ where: { id: productId } })).stock;
}

/** The tenant's daily counters, money (bigint columns, BigInt in Prisma) as numbers. */
export async function statsOf(prisma: PrismaClient, tenantId: string) {
  const rows = await prisma.tenantDailyStats.findMany({ where: { tenantId } });
  return rows.map((row) => ({ ...row, grossAmount: Number(row.grossAmount), paymentsAmount: Number(row.paymentsAmount), refundsAmount: Number(row.refundsAmount) }));
}

export const now = () => new Date().toISOString();
