import type { Logger } from "outbox-relay";
import { batch, type OrderEvent } from "./types.ts";
import { bumpDailyStats } from "./daily-stats.ts";
import { lockOrders, lockPayments, type LockedOrder, type LockedPayment } from "./locks.ts";
import { refundCompletedPayments, refundedBy } from "./refunds.ts";
import { setOrderStatuses, setPaymentStatuses, type OrderChange } from "./status-changes.ts";
import { orderStatus, paymentStatus, type WebhookData } from "@outbox/domain";
import { fanOutWebhooks, type WebhookNotification } from "outbox-relay/webhooks";

type PaymentProcessedEvent = OrderEvent<"PaymentProcessed">;

const payableOrderStatuses: string[] = [orderStatus.pending, orderStatus.awaitingPayment, orderStatus.paymentPending];

interface Settlement {
  event: PaymentProcessedEvent;
  order: LockedOrder;
  payment: LockedPayment;
  succeeded: boolean;
  /** Set when a completed payment's order moved on (cancelled, or paid by another payment): refund it. */
  refundReason: string | null;
}

/**
 * Settles payments. A completed payment makes its order `paid`; if the order was cancelled or paid
 * by another payment meanwhile, that payment is refunded at once. A failed payment puts the order
 * back to `awaiting_payment` so the customer can pay again. A payment already settled, before or
 * by an earlier event of the batch, changes nothing.
 */
export const handlePaymentProcessed = batch<"PaymentProcessed">(async (ctx) => {
  const { tx, events, logger } = ctx;
  const orders = await lockOrders(tx, events.map((event) => event.payload.orderId));
  const payments = await lockPayments(tx, events.map((event) => event.payload.paymentId));
  const { settlements, orderChanges } = settleInOrder(events, orders, payments, logger);

  await setPaymentStatuses(tx, settlements.map(({ event, payment, succeeded }) => ({
    id: payment.id,
    status: succeeded ? paymentStatus.completed : paymentStatus.failed,
    processedAt: event.payload.processedAt,
  })));
  await setOrderStatuses(tx, orderChanges);
  const refunds = await refundCompletedPayments(tx, settlements.flatMap(({ order, payment, refundReason }) =>
    refundReason ? [{ orderId: order.id, tenantId: order.tenantId, reason: refundReason, paymentId: payment.id }] : []));
  const refundedByPayment = refundedBy(refunds, (refund) => refund.paymentId);
  const refundedOf = (payment: LockedPayment) => refundedByPayment.get(payment.id) ?? 0;

  bumpDailyStats(ctx, settlements.map(({ event, order, payment, succeeded }) => ({
    tenantId: order.tenantId,
    at: event.payload.processedAt,
    delta: succeeded ? { paymentsCompleted: 1, paymentsAmount: payment.amount, refundsAmount: refundedOf(payment) } : { paymentsFailed: 1 },
  })));
  await fanOutWebhooks(tx, settlements.map((settlement) => settlementNotification(settlement, refundedOf(settlement.payment))));
});

function settlementNotification({ event, order, payment, succeeded }: Settlement, refunded: number): WebhookNotification {
  return {
    sourceEventId: event.id,
    tenantId: order.tenantId,
    type: succeeded ? "payment.completed" : "payment.failed",
    data: {
      paymentId: payment.id,
      orderId: order.id,
      amount: payment.amount,
      status: succeeded ? paymentStatus.completed : paymentStatus.failed,
      refundedAmount: refunded,
    } satisfies WebhookData<"payment.completed" | "payment.failed">,
  };
}

/**
 * Decides each event in the batch's order against the locked rows, carrying each order's status
 * from one event to the next, as one at a time would.
 */
function settleInOrder(
  events: readonly PaymentProcessedEvent[],
  orders: Map<string, LockedOrder>,
  payments: Map<string, LockedPayment>,
  logger: Logger,
): { settlements: Settlement[]; orderChanges: OrderChange[] } {
  const statusNow = new Map<string, string>();
  const settled = new Set<string>();
  const settlements: Settlement[] = [];
  const orderChanges: OrderChange[] = [];
  for (const event of events) {
    const order = orders.get(event.payload.orderId)!;
    const payment = payments.get(event.payload.paymentId)!;
    if (settled.has(payment.id) || payment.status === paymentStatus.completed || payment.status === paymentStatus.failed) {
      logger.info({ eventId: event.id, paymentId: payment.id }, "payment already settled");
      continue;
    }
    settled.add(payment.id);
    const status = statusNow.get(order.id) ?? order.status;
    const succeeded = event.payload.status === "succeeded";
    const change = orderChangeOf(order, status, succeeded);
    if (change) {
      orderChanges.push(change);
      statusNow.set(order.id, change.status);
    }
    const refundReason = succeeded && !change ? `payment completed after the order became ${status}` : null;
    settlements.push({ event, order, payment, succeeded, refundReason });
  }
  return { settlements, orderChanges };
}

function orderChangeOf(order: LockedOrder, status: string, succeeded: boolean): OrderChange | null {
  if (succeeded && payableOrderStatuses.includes(status)) return { id: order.id, status: orderStatus.paid, reason: null };
  if (!succeeded && status === orderStatus.paymentPending) return { id: order.id, status: orderStatus.awaitingPayment, reason: "payment failed" };
  return null;
}
