import { batch, type OrderEvent } from "./types.ts";
import type { Queryable } from "outbox-relay";
import { bumpDailyStats } from "./daily-stats.ts";
import { queueEmails, type QueuedEmail } from "./emails.ts";
import { firstPerKey } from "./ids.ts";
import { lockOrders, type LockedOrder } from "./locks.ts";
import { refundCompletedPayments, refundedBy } from "./refunds.ts";
import { setOrderStatuses } from "./status-changes.ts";
import { orderStatus, type WebhookData } from "@outbox/domain";
import { releaseReservations, type ReservedLine, type StockLine } from "./stock.ts";
import { fanOutWebhooks, type WebhookNotification } from "outbox-relay/webhooks";

type OrderCancelledEvent = OrderEvent<"OrderCancelled">;

interface Cancellation {
  event: OrderCancelledEvent;
  order: LockedOrder;
  restored: StockLine[];
  refunded: number;
}

/**
 * Cancels the orders (the API has usually marked them already), gives back exactly the stock each
 * reserved and refunds every completed payment. Each effect is keyed so it happens once: a
 * reservation is released only while released_at is null, a refund is unique per payment. The
 * first event naming an order gets what was released and refunded, as it would one at a time; a
 * later cancel of the same order finds nothing left, and its reason is the one the order keeps.
 */
export const handleOrderCancelled = batch<"OrderCancelled">(async (ctx) => {
  const { tx, events } = ctx;
  const orders = await lockOrders(tx, events.map((event) => event.payload.orderId));
  const cancellations = await cancelOrders(tx, events, orders);
  await queueEmails(tx, cancellations.map(cancellationEmail));
  bumpDailyStats(ctx, cancellations.map(({ event, order, refunded }) => ({
    tenantId: order.tenantId,
    at: event.payload.cancelledAt,
    delta: { ordersCancelled: 1, refundsAmount: refunded },
  })));
  await fanOutWebhooks(tx, cancellations.map(cancellationNotification));
});

/** Marks the orders cancelled, then refunds and releases each order once, for the first event naming it. */
async function cancelOrders(tx: Queryable, events: readonly OrderCancelledEvent[], orders: Map<string, LockedOrder>): Promise<Cancellation[]> {
  const orderOf = (event: OrderCancelledEvent) => orders.get(event.payload.orderId)!;
  await setOrderStatuses(tx, events.map((event) => ({ id: orderOf(event).id, status: orderStatus.cancelled, reason: event.payload.reason })));
  const first = firstPerKey(events, (event) => orderOf(event).id);
  const refunds = await refundCompletedPayments(
    tx,
    first.map((event) => ({ orderId: orderOf(event).id, tenantId: orderOf(event).tenantId, reason: event.payload.reason })),
  );
  const released = await releaseReservations(tx, first.map((event) => orderOf(event).id));
  const refundedByOrder = refundedBy(refunds, (refund) => refund.orderId);
  const restoredByOrder = linesByOrder(released);
  const firsts = new Set(first);
  return events.map((event) => {
    const order = orderOf(event);
    if (!firsts.has(event)) return { event, order, restored: [], refunded: 0 };
    return { event, order, restored: restoredByOrder.get(order.id) ?? [], refunded: refundedByOrder.get(order.id) ?? 0 };
  });
}

function cancellationEmail({ event, order, refunded }: Cancellation): QueuedEmail {
  return {
    eventId: event.id,
    tenantId: order.tenantId,
    recipient: order.customerEmail,
    template: "order_cancelled",
    data: { orderNumber: order.orderNumber, reason: event.payload.reason, refundedAmount: refunded, currency: order.currency },
  };
}

function cancellationNotification({ event, order, restored, refunded }: Cancellation): WebhookNotification {
  return {
    sourceEventId: event.id,
    tenantId: order.tenantId,
    type: "order.cancelled",
    data: {
      orderId: order.id,
      orderNumber: order.orderNumber,
      reason: event.payload.reason,
      restoredStock: restored,
      refundedAmount: refunded,
      currency: order.currency,
    } satisfies WebhookData<"order.cancelled">,
  };
}

function linesByOrder(lines: readonly ReservedLine[]): Map<string, StockLine[]> {
  const byOrder = new Map<string, StockLine[]>();
  for (const { orderId, productId, quantity } of lines) {
    const list = byOrder.get(orderId);
    if (list) list.push({ productId, quantity });
    else byOrder.set(orderId, [{ productId, quantity }]);
  }
  return byOrder;
}
