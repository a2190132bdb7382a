import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@outbox/db";

const address = { firstName: "Ada", lastName: "Lovelace", address1: "1 Main St", city: "London", postalCode: "N1", country: "GB" };

export async function seedTenant(prisma: PrismaClient): Promise<string> {
  const id = randomUUID();
  await prisma.tenant.create({ data: { id, name: "Acme", slug: `acme-${id.slice(0, 8)}` } });
  return id;
}

let orderNumber = 0;

export async function seedOrder(
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

export async function seedPayment(
  prisma: PrismaClient,
  order: { tenantId: string; orderId: string },
  { amount = 1000, status = "pending", createdAt = new Date(), processedAt }: { amount?: number; status?: string; createdAt?: Date; processedAt?: Date } = {},
): Promise<string> {
  const payment = await prisma.payment.create({
    data: { tenantId: order.tenantId, orderId: order.orderId, amount, status, createdAt, ...(processedAt ? { processedAt } : {}) },
  });
  return payment.id;
}
