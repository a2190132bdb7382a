import type { Tx } from "@outbox/db";
import { PermanentError, type HandlerContext } from "@outbox/processor";
import { bumpDailyStats } from "./daily-stats.ts";
import { queueEmail } from "./emails.ts";
import { orderStatus } from "./statuses.ts";
import { fanOutWebhooks } from "./webhook-fan-out.ts";

interface LockedOrder {
  id: string;
  tenant_id: string;
  status: string;
}

interface Shortage {
  productId: string;
  requested: number;
  available: number;
}

/**
 * Reserves the order's stock all or nothing. The order's products are locked in id order (two
 * orders sharing products lock them in the same order and cannot deadlock), checked, then taken
 * with conditional updates that can never make stock negative. An order that cannot be filled is
 * `rejected` with the reason and reserves nothing. Only a `pending` order is worked on: one
 * cancelled before this ran keeps its state.
 */
export async function handleOrderCreated(ctx: HandlerContext<"OrderCreated">): Promise<void> {
  const { tx, event } = ctx;
  const { payload } = event;
  const order = await lockOrder(tx, payload.orderId);
  if (order.status !== orderStatus.pending) {
    ctx.logger.info({ orderId: order.id, status: order.status }, "order is no longer pending; nothing to reserve");
    return;
  }
  const wanted = await wantedQuantities(tx, order.id);
  const shortages = await lockAndCheckStock(tx, order.tenant_id, wanted);
  const accepted = shortages.length === 0;
  const reason = accepted ? null : describeShortages(shortages);
  if (accepted) await reserve(tx, order.id, wanted);
  await tx.order.update({
    where: { id: order.id },
    data: { status: accepted ? orderStatus.awaitingPayment : orderStatus.rejected, statusReason: reason },
  });

  await queueEmail(tx, {
    eventId: event.id,
    tenantId: order.tenant_id,
    recipient: payload.customerEmail,
    template: accepted ? "order_confirmation" : "order_rejected",
    data: { orderNumber: payload.orderNumber, totalAmount: payload.totalAmount, currency: payload.currency, items: payload.items, reason },
  });
  // Only accepted orders count: a rejected order sold nothing.
  if (accepted) await bumpDailyStats(tx, order.tenant_id, payload.createdAt, { ordersCreated: 1, grossAmount: payload.totalAmount });
  await fanOutWebhooks(ctx, order.tenant_id, "order.created", {
    orderId: order.id,
    orderNumber: payload.orderNumber,
    status: accepted ? orderStatus.awaitingPayment : orderStatus.rejected,
    statusReason: reason,
    totalAmount: payload.totalAmount,
    currency: payload.currency,
    items: payload.items,
  });
}

export async function lockOrder(tx: Tx, orderId: string): Promise<LockedOrder> {
  const [order] = await tx.$queryRaw<LockedOrder[]>`
    SELECT id::text, tenant_id::text, status FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`;
  if (!order) throw new PermanentError(`order ${orderId} does not exist`);
  return order;
}

/** The order's quantities per product, in product id order (the lock order). */
async function wantedQuantities(tx: Tx, orderId: string): Promise<Map<string, number>> {
  const rows = await tx.orderItem.groupBy({ by: ["productId"], where: { orderId }, _sum: { quantity: true }, orderBy: { productId: "asc" } });
  if (rows.length === 0) throw new PermanentError(`order ${orderId} has no items`);
  return new Map(rows.map((row) => [row.productId, row._sum.quantity ?? 0]));
}

/** lockProducts: FOR UPDATE in id order, so the check below holds until the transaction ends. */
async function lockAndCheckStock(tx: Tx, tenantId: string, wanted: Map<string, number>): Promise<Shortage[]> {
  const ids = [...wanted.keys()];
  const rows = await tx.$queryRaw<{ id: string; stock: number }[]>`
    SELECT id::text, stock FROM products
    WHERE id = ANY(${ids}::uuid[]) AND tenant_id = ${tenantId}::uuid
    ORDER BY id FOR UPDATE`;
  const stock = new Map(rows.map((row) => [row.id, row.stock]));
  return ids
    .map((productId) => ({ productId, requested: wanted.get(productId)!, available: stock.get(productId) ?? 0 }))
    .filter((line) => line.available < line.requested);
}

async function reserve(tx: Tx, orderId: string, wanted: Map<string, number>): Promise<void> {
  for (const [productId, quantity] of wanted) {
    const taken = await tx.$executeRaw`
      UPDATE products SET stock = stock - ${quantity}, updated_at = now()
      WHERE id = ${productId}::uuid AND stock >= ${quantity}`;
    // The rows are locked and were checked; zero rows means a bug, and throwing rolls everything back.
    if (taken !== 1) throw new Error(`stock of product ${productId} changed under its lock`);
  }
  await tx.stockReservation.createMany({
    data: [...wanted].map(([productId, quantity]) => ({ orderId, productId, quantity })),
  });
}

function describeShortages(shortages: Shortage[]): string {
  return `insufficient stock: ${shortages
    .map((s) => `product ${s.productId} requested ${s.requested}, available ${s.available}`)
    .join("; ")}`;
}
