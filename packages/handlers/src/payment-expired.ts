import type { HandlerContext } from "@outbox/processor";
import { lockOrder } from "./order-created.ts";
import { lockPayment } from "./payment-processed.ts";
import { orderStatus, paymentStatus } from "./statuses.ts";
import { fanOutWebhooks } from "./webhook-fan-out.ts";

/**
 * The expiry job marks the payment `expired` and publishes this in one transaction; the order
 * waiting on that payment goes back to `awaiting_payment`. An order that moved on (paid,
 * cancelled) keeps its state.
 */
export async function handlePaymentExpired(ctx: HandlerContext<"PaymentExpired">): Promise<void> {
  const { tx, event } = ctx;
  const { payload } = event;
  const order = await lockOrder(tx, payload.orderId);
  const payment = await lockPayment(tx, payload.paymentId);
  if (payment.status === paymentStatus.pending) {
    await tx.payment.update({ where: { id: payment.id }, data: { status: paymentStatus.expired, expiredAt: new Date(payload.expiredAt) } });
  }
  if (order.status === orderStatus.paymentPending) {
    await tx.order.update({ where: { id: order.id }, data: { status: orderStatus.awaitingPayment, statusReason: "payment expired" } });
  }
  await fanOutWebhooks(ctx, order.tenant_id, "payment.expired", {
    paymentId: payment.id,
    orderId: order.id,
    amount: payment.amount,
    expiredAt: payload.expiredAt,
  });
}
