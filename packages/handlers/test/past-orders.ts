import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@outbox/db";
import { address } from "./helpers.ts";


let orderNumber = 0;

/** An order in any status at any time, for reports over past days; not the pending order `seedOrder` writes. */
export async function seedPastOrder(
  prisma: PrismaClient,
  tenantId: string,
  { totalAmount = 1000, createdAt = new Date(), status = "awaiting_payment" }: { totalAmount?: number; createdAt?: Date; status?: string } = {},
): Promise<string> {
  orderNumber += 1;
  const order = await prisma.order.create({
    data: {
      tenantId,
      orderNumber: `ORD-${orderNumber}-${randomUUID().slice(0, 6)}`,
      customerId: randomUUID(),
      customerEmail: "ada@example.com",
      totalAmount,
      currency: "USD",
      shippingAddress: address,
      status,
      createdAt,
    },
  });
  return order.id;
}

/** A payment in any status at any time, for reports over past days. */
export async function seedPastPayment(
  prisma: PrismaClient,
  order: { tenantId: string; orderId: string },
  { amount = 1000, status = "pending", createdAt = new Date(), processedAt }: { amount?: number; status?: string; createdAt?: Date; processedAt?: Date } = {},
): Promise<string> {
  const payment = await prisma.payment.create({
    data: { tenantId: order.tenantId, orderId: order.orderId, amount, status, createdAt, ...(processedAt ? { processedAt } : {}) },
  });
  return payment.id;
}
