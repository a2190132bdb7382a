import type { Tx } from "@outbox/db";
import type { HandlerContext } from "@outbox/processor";
import { bumpDailyStats } from "./daily-stats.ts";
import { queueEmail } from "./emails.ts";
import { lockOrder } from "./order-created.ts";
import { orderStatus, paymentStatus } from "./statuses.ts";
import { fanOutWebhooks } from "./webhook-fan-out.ts";

/**
 * Cancels the order (the API has usually marked it already), gives back exactly the stock it
 * reserved and refunds every completed payment. Each effect is keyed so it happens once: a
 * reservation is released only while released_at is null, a refund is unique per payment.
 */
export async function handleOrderCancelled(ctx: HandlerContext<"OrderCancelled">): Promise<void> {
  const { tx, event } = ctx;
  const { payload } = event;
  const order = await lockOrder(tx, payload.orderId);
  const row = await tx.order.update({
    where: { id: order.id },
    data: { status: orderStatus.cancelled, statusReason: payload.reason },
    select: { customerEmail: true, orderNumber: true, totalAmount: true, currency: true },
  });

  const restored = await releaseReservations(tx, order.id);
  const refunded = await refundCompletedPayments(tx, order.id, order.tenant_id, payload.reason);

  await queueEmail(tx, {
    eventId: event.id,
    tenantId: order.tenant_id,
    recipient: row.customerEmail,
    template: "order_cancelled",
    data: { orderNumber: row.orderNumber, reason: payload.reason, refundedAmount: refunded, currency: row.currency },
  });
  await bumpDailyStats(tx, order.tenant_id, payload.cancelledAt, { ordersCancelled: 1, refundsAmount: refunded });
  await fanOutWebhooks(ctx, order.tenant_id, "order.cancelled", {
    orderId: order.id,
    orderNumber: row.orderNumber,
    reason: payload.reason,
    restoredStock: restored,
    refundedAmount: refunded,
    currency: row.currency,
  });
}

/**
 * releaseReservations: marks the order's open reservations released and puts their quantities
 * back, products in id order (the same lock order as the reservation).
 */
async function releaseReservations(tx: Tx, orderId: string): Promise<{ productId: string; quantity: number }[]> {
  const released = await tx.$queryRaw<{ productId: string; quantity: number }[]>`
    UPDATE stock_reservations SET released_at = now()
    WHERE order_id = ${orderId}::uuid AND released_at IS NULL
    RETURNING product_id::text AS "productId", quantity`;
  released.sort((a, b) => a.productId.localeCompare(b.productId));
  for (const { productId, quantity } of released) {
    await tx.$executeRaw`UPDATE products SET stock = stock + ${quantity}, updated_at = now() WHERE id = ${productId}::uuid`;
  }
  return released;
}

/** Refunds each completed payment of the order that has no refund yet; returns the amount refunded. */
export async function refundCompletedPayments(tx: Tx, orderId: string, tenantId: string, reason: string): Promise<number> {
  const payments = await tx.payment.findMany({
    where: { orderId, status: paymentStatus.completed, refunds: { none: {} } },
    select: { id: true, amount: true },
    orderBy: { id: "asc" },
  });
  if (payments.length === 0) return 0;
  await tx.refund.createMany({
    data: payments.map((payment) => ({ tenantId, orderId, paymentId: payment.id, amount: payment.amount, reason })),
    skipDuplicates: true,
  });
  return payments.reduce((sum, payment) => sum + payment.amount, 0);
}
