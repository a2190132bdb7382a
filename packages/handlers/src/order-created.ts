import type { Logger, Queryable } from "outbox-relay";
import { batch, type OrderEvent } from "./types.ts";
import { bumpDailyStats } from "./daily-stats.ts";
import { queueEmails, type QueuedEmail } from "./emails.ts";
import { firstPerKey } from "./ids.ts";
import { lockOrders, type LockedOrder } from "./locks.ts";
import { setOrderStatuses } from "./status-changes.ts";
import { orderStatus, type WebhookData } from "@outbox/domain";
import { lockItemsAndProducts, reserveStock } from "./stock.ts";
import { allocateStock, type Allocation } from "./stock-allocation.ts";
import { fanOutWebhooks, type WebhookNotification } from "outbox-relay/webhooks";

type OrderCreatedEvent = OrderEvent<"OrderCreated">;

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
  const pending = stillPending(events, orders, logger);
  if (pending.length === 0) return;
  const decisions = await allocate(tx, pending);

  const accepted = decisions.filter((d) => d.allocation.accepted);
  await reserveStock(tx, accepted.flatMap(({ allocation }) => allocation.lines.map((line) => ({ orderId: allocation.orderId, ...line }))));
  await setOrderStatuses(tx, decisions.map(({ allocation }) => ({ id: allocation.orderId, status: statusOf(allocation), reason: allocation.reason })));
  await queueEmails(tx, decisions.map(decisionEmail));
  // Only accepted orders count: a rejected order sold nothing.
  bumpDailyStats(
    ctx,
    accepted.map(({ event, order }) => ({ tenantId: order.tenantId, at: event.payload.createdAt, delta: { ordersCreated: 1, grossAmount: event.payload.totalAmount } })),
  );
  await fanOutWebhooks(tx, decisions.map(decisionNotification));
});

/** The first event of each order still `pending`, with its order; the others are logged and left. */
function stillPending(events: readonly OrderCreatedEvent[], orders: Map<string, LockedOrder>, logger: Logger): Omit<Decision, "allocation">[] {
  const first = new Set(firstPerKey(events, (event) => orders.get(event.payload.orderId)!.id));
  return events.flatMap((event) => {
    const order = orders.get(event.payload.orderId)!;
    if (first.has(event) && order.status === orderStatus.pending) return [{ event, order }];
    logger.info({ eventId: event.id, orderId: order.id, status: order.status }, "order is no longer pending; nothing to reserve");
    return [];
  });
}

/** Locks the orders' products and fills the orders, in the batch's order, from their stock. */
async function allocate(tx: Queryable, pending: Omit<Decision, "allocation">[]): Promise<Decision[]> {
  const { lines, products } = await lockItemsAndProducts(tx, pending.map(({ order }) => order.id));
  const requests = pending.map(({ order }) => ({ orderId: order.id, tenantId: order.tenantId, lines: lines.get(order.id)! }));
  return allocateStock(requests, products).map((allocation, i) => ({ ...pending[i]!, allocation }));
}

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
    } satisfies WebhookData<"order.created">,
  };
}
