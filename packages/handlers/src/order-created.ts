import { batch, type HandledEvent } from "@outbox/processor";
import { bumpDailyStats } from "./daily-stats.ts";
import { queueEmails, type QueuedEmail } from "./emails.ts";
import { firstPerKey } from "./ids.ts";
import { lockOrders, type LockedOrder } from "./locks.ts";
import { setOrderStatuses } from "./status-changes.ts";
import { orderStatus } from "./statuses.ts";
import { lockItemsAndProducts, reserveStock } from "./stock.ts";
import { allocateStock, type Allocation } from "./stock-allocation.ts";
import { fanOutWebhooks, type WebhookNotification } from "./webhook-fan-out.ts";

type OrderCreatedEvent = HandledEvent<"OrderCreated">;

interface Decision {
  event: OrderCreatedEvent;
  order: LockedOrder;
  allocation: Allocation;
}

/**
 * Reserves each order's stock all or nothing. The orders are locked, then their products (each in
 * id order, so batches sharing them cannot deadlock); the stock is allocated in the batch's event
 * order (an earlier order wins), then reservations, statuses, emails, stats and webhooks are
 * written for all of them at once. An order that cannot be filled is `rejected` with the reason
 * and reserves nothing. Only a `pending` order is worked on, by the first event naming it: one
 * cancelled before this ran keeps its state.
 */
export const handleOrderCreated = batch<"OrderCreated">(async (ctx) => {
  const { tx, events, logger } = ctx;
  const orders = await lockOrders(tx, events.map((event) => event.payload.orderId));
  const orderOf = (event: OrderCreatedEvent) => orders.get(event.payload.orderId)!;
  const first = firstPerKey(events, (event) => orderOf(event).id);
  const toReserve = first.filter((event) => orderOf(event).status === orderStatus.pending);
  const reserving = new Set(toReserve.map((event) => event.id));
  for (const event of events.filter((e) => !reserving.has(e.id))) {
    logger.info({ eventId: event.id, orderId: orderOf(event).id, status: orderOf(event).status }, "order is no longer pending; nothing to reserve");
  }
  if (toReserve.length === 0) return;

  const { lines, products } = await lockItemsAndProducts(tx, toReserve.map((event) => orderOf(event).id));
  const requests = toReserve.map((event) => ({ orderId: orderOf(event).id, tenantId: orderOf(event).tenantId, lines: lines.get(orderOf(event).id)! }));
  const decisions: Decision[] = allocateStock(requests, products).map((allocation, i) => ({ event: toReserve[i]!, order: orderOf(toReserve[i]!), allocation }));

  const accepted = decisions.filter((d) => d.allocation.accepted);
  await reserveStock(tx, accepted.flatMap(({ allocation }) => allocation.lines.map((line) => ({ orderId: allocation.orderId, ...line }))));
  await setOrderStatuses(tx, decisions.map(({ allocation }) => ({ id: allocation.orderId, status: statusOf(allocation), reason: allocation.reason })));
  await queueEmails(tx, decisions.map(decisionEmail));
  // Only accepted orders count: a rejected order sold nothing.
  await bumpDailyStats(
    tx,
    accepted.map(({ event, order }) => ({ tenantId: order.tenantId, at: event.payload.createdAt, delta: { ordersCreated: 1, grossAmount: event.payload.totalAmount } })),
  );
  await fanOutWebhooks(ctx, decisions.map(decisionNotification));
});

function statusOf(allocation: Allocation) {
  return allocation.accepted ? orderStatus.awaitingPayment : orderStatus.rejected;
}

function decisionEmail({ event, order, allocation }: Decision): QueuedEmail {
  const { payload } = event;
  return {
    eventId: event.id,
    tenantId: order.tenantId,
    recipient: payload.customerEmail,
    template: allocation.accepted ? "order_confirmation" : "order_rejected",
    data: { orderNumber: payload.orderNumber, totalAmount: payload.totalAmount, currency: payload.currency, items: payload.items, reason: allocation.reason },
  };
}

function decisionNotification({ event, order, allocation }: Decision): WebhookNotification {
  const { payload } = event;
  return {
    sourceEventId: event.id,
    tenantId: order.tenantId,
    type: "order.created",
    data: {
      orderId: order.id,
      orderNumber: payload.orderNumber,
      status: statusOf(allocation),
      statusReason: allocation.reason,
      totalAmount: payload.totalAmount,
      currency: payload.currency,
      items: payload.items,
    },
  };
}
