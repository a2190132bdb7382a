import type { Tx } from "@outbox/db";
import { PermanentError, type HandlerContext } from "@outbox/processor";
import { bumpDailyStats } from "./daily-stats.ts";
import { refundCompletedPayments } from "./order-cancelled.ts";
import { lockOrder } from "./order-created.ts";
import { orderStatus, paymentStatus } from "./statuses.ts";
import { fanOutWebhooks } from "./webhook-fan-out.ts";

const payableOrderStatuses: string[] = [orderStatus.pending, orderStatus.awaitingPayment, orderStatus.paymentPending];

/**
 * Settles a payment. A completed payment makes its order `paid`; if the order was cancelled or
 * paid by another payment meanwhile, the money is refunded at once. A failed payment puts the
 * order back to `awaiting_payment` so the customer can pay again.
 */
export async function handlePaymentProcessed(ctx: HandlerContext<"PaymentProcessed">): Promise<void> {
  const { tx, event } = ctx;
  const { payload } = event;
  const order = await lockOrder(tx, payload.orderId);
  const payment = await lockPayment(tx, payload.paymentId);
  if (payment.status === paymentStatus.completed || payment.status === paymentStatus.failed) {
    ctx.logger.info({ paymentId: payment.id, status: payment.status }, "payment already settled");
    return;
  }
  const succeeded = payload.status === "succeeded";
  await tx.payment.update({
    where: { id: payment.id },
    data: { status: succeeded ? paymentStatus.completed : paymentStatus.failed, processedAt: new Date(payload.processedAt) },
  });

  let refunded = 0;
  if (succeeded && payableOrderStatuses.includes(order.status)) {
    await tx.order.update({ where: { id: order.id }, data: { status: orderStatus.paid, statusReason: null } });
  } else if (succeeded) {
    refunded = await refundCompletedPayments(tx, order.id, order.tenant_id, `payment completed after the order became ${order.status}`);
  } else if (order.status === orderStatus.paymentPending) {
    await tx.order.update({ where: { id: order.id }, data: { status: orderStatus.awaitingPayment, statusReason: "payment failed" } });
  }

  await bumpDailyStats(
    tx,
    order.tenant_id,
    payload.processedAt,
    succeeded ? { paymentsCompleted: 1, paymentsAmount: payment.amount, refundsAmount: refunded } : { paymentsFailed: 1 },
  );
  await fanOutWebhooks(ctx, order.tenant_id, succeeded ? "payment.completed" : "payment.failed", {
    paymentId: payment.id,
    orderId: order.id,
    amount: payment.amount,
    status: succeeded ? paymentStatus.completed : paymentStatus.failed,
    refundedAmount: refunded,
  });
}

export async function lockPayment(tx: Tx, paymentId: string): Promise<{ id: string; status: string; amount: number }> {
  const [payment] = await tx.$queryRaw<{ id: string; status: string; amount: number }[]>`
    SELECT id::text, status, amount FROM payments WHERE id = ${paymentId}::uuid FOR UPDATE`;
  if (!payment) throw new PermanentError(`payment ${paymentId} does not exist`);
  return payment;
}
