import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@outbox/db";
import type { EventPayload, EventType } from "@outbox/events";
import { createLogger } from "@outbox/logger";
import { publish } from "@outbox/outbox";
import type { HandlerContext, HandlerMap, TransactionalHandler } from "@outbox/processor";
import { orderStatus } from "../src/index.ts";

export const logger = createLogger({ level: "silent" });

/** Runs one handler the way the processor does: in its own transaction, publishing through it. */
export async function runHandler<T extends EventType>(
  prisma: PrismaClient,
  handlers: HandlerMap,
  type: T,
  payload: EventPayload<T>,
  eventId: string = randomUUID(),
): Promise<string> {
  const handler = handlers[type] as TransactionalHandler<T>;
  await prisma.$transaction(
    async (tx) => {
      const context: HandlerContext<T> = {
        tx,
        logger,
        event: { id: eventId, type, payload, aggregateType: "test", aggregateId: "test", tenantId: null, attempt: 1, createdAt: new Date() },
        publish: (next) => publish(tx, { ...next, causationId: eventId }),
      };
      await handler(context);
    },
    { timeout: 30_000, maxWait: 30_000 },
  );
  return eventId;
}

export async function seedTenant(prisma: PrismaClient, name = "Acme"): Promise<string> {
  const tenant = await prisma.tenant.create({ data: { name, slug: `t-${randomUUID().slice(0, 12)}` } });
  return tenant.id;
}

export async function seedProduct(prisma: PrismaClient, tenantId: string, stock: number, price = 1000): Promise<string> {
  const product = await prisma.product.create({
    data: { tenantId, sellerId: randomUUID(), categoryId: "books", name: "A book", price, stock },
  });
  return product.id;
}

const address = { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1", country: "GB" };

/** A `pending` order as the API writes it, and the OrderCreated payload the API publishes with it. */
export async function seedOrder(
  prisma: PrismaClient,
  tenantId: string,
  items: { productId: string; quantity: number; unitPrice: number }[],
): Promise<EventPayload<"OrderCreated">> {
  const [next] = await prisma.$queryRaw<{ value: number }[]>`SELECT nextval('order_number_seq')::int AS value`;
  const orderNumber = `ORD-${String(next!.value).padStart(6, "0")}`;
  const totalAmount = items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  const order = await prisma.order.create({
    data: {
      tenantId,
      orderNumber,
      customerId: randomUUID(),
      customerEmail: "ada@example.com",
      status: orderStatus.pending,
      totalAmount,
      currency: "USD",
      shippingAddress: address,
      items: { create: items },
    },
  });
  return {
    orderId: order.id,
    orderNumber,
    tenantId,
    customerId: order.customerId,
    customerEmail: order.customerEmail,
    totalAmount,
    currency: "USD",
    items,
    shippingAddress: address,
    createdAt: order.createdAt.toISOString(),
  };
}

export async function seedPayment(prisma: PrismaClient, order: EventPayload<"OrderCreated">, status = "pending"): Promise<string> {
  const payment = await prisma.payment.create({ data: { tenantId: order.tenantId, orderId: order.orderId, amount: order.totalAmount, status } });
  await prisma.order.update({ where: { id: order.orderId }, data: { status: orderStatus.paymentPending } });
  return payment.id;
}

export async function stockOf(prisma: PrismaClient, productId: string): Promise<number> {
  return (await prisma.product.findUniqueOrThrow({ where: { id: productId } })).stock;
}

export async function statsOf(prisma: PrismaClient, tenantId: string) {
  return prisma.tenantDailyStats.findMany({ where: { tenantId } });
}
