import { batch, type OrderEvent } from "./types.ts";
import { lockOrders, lockPayments, type LockedOrder, type LockedPayment } from "./locks.ts";
import { setOrderStatuses, setPaymentStatuses, type OrderChange, type PaymentChange } from "./status-changes.ts";
import { orderStatus, paymentStatus, type WebhookData } from "@outbox/domain";
import { fanOutWebhooks, type WebhookNotification } from "outbox-relay/webhooks";

type PaymentExpiredEvent = OrderEvent<"PaymentExpired">;

interface Expiries {
  paymentChanges: PaymentChange[];
  orderChanges: OrderChange[];
  notifications: WebhookNotification[];
}

/**
 * The expiry job marks the payment `expired` and publishes this in one transaction; a payment
 * still pending is expired here too, and the order waiting on it goes back to `awaiting_payment`.
 * An order that moved on (paid, cancelled) keeps its state. Every event notifies webhooks.
 */
export const handlePaymentExpired = batch<"PaymentExpired">(async (ctx) => {
  const { tx, events } = ctx;
  const orders = await lockOrders(tx, events.map((event) => event.payload.orderId));
  const payments = await lockPayments(tx, events.map((event) => event.payload.paymentId));
  const { paymentChanges, orderChanges, notifications } = expireInOrder(events, orders, payments);
  await setPaymentStatuses(tx, paymentChanges);
  await setOrderStatuses(tx, orderChanges);
  await fanOutWebhooks(tx, notifications);
});

/** Decides each event in the batch's order, carrying the rows' statuses from one event to the next. */
function expireInOrder(events: readonly PaymentExpiredEvent[], orders: Map<string, LockedOrder>, payments: Map<string, LockedPayment>): Expiries {
  const statusNow = new Map<string, string>([...orders.values(), ...payments.values()].map((row) => [row.id, row.status]));
  const expiries: Expiries = { paymentChanges: [], orderChanges: [], notifications: [] };
  for (const event of events) {
    const order = orders.get(event.payload.orderId)!;
    const payment = payments.get(event.payload.paymentId)!;
    if (statusNow.get(payment.id) === paymentStatus.pending) {
      expiries.paymentChanges.push({ id: payment.id, status: paymentStatus.expired, expiredAt: event.payload.expiredAt });
      statusNow.set(payment.id, paymentStatus.expired);
    }
    if (statusNow.get(order.id) === orderStatus.paymentPending) {
      expiries.orderChanges.push({ id: order.id, status: orderStatus.awaitingPayment, reason: "payment expired" });
      statusNow.set(order.id, orderStatus.awaitingPayment);
    }
    expiries.notifications.push({
      sourceEventId: event.id,
      tenantId: order.tenantId,
      type: "payment.expired",
      data: { paymentId: payment.id, orderId: order.id, amount: payment.amount, expiredAt: event.payload.expiredAt } satisfies WebhookData<"payment.expired">,
    });
  }
  return expiries;
}
