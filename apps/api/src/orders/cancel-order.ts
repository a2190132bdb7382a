import { orderEvents, orderStatus } from "@outbox/domain";
import { type Database, sql } from "outbox-relay";
import { conflict, notFound } from "../errors.ts";
import { retrying } from "../retrying.ts";
import { isUuid } from "../validation.ts";

interface OrderState {
  tenant_id: string;
  status: string;
  status_reason: string | null;
}

/**
 * Marks the order cancelled at once (so a second cancel is refused) and publishes OrderCancelled,
 * whose handler restores the stock and refunds. Two round trips: a read, then one statement that
 * changes the order only if it still has the status read (else it runs again) and publishes the
 * event only if it did. The UPDATE's own row lock is the only lock (docs/locking.md). With a
 * `tenantScope` (the API key's tenant) another tenant's order reads as missing: 404.
 */
export async function cancelOrder(db: Database, id: string, reason: string, tenantScope: string | undefined) {
  if (!isUuid(id)) throw notFound("order", id);
  return retrying(async () => {
    const [order] = await db.query<OrderState>(sql`
      SELECT tenant_id::text, status, status_reason FROM orders WHERE id = ${id}::uuid AND (${tenantScope ?? null}::uuid IS NULL OR tenant_id = ${tenantScope ?? null}::uuid)`);
    if (!order) throw notFound("order", id);
    const why = order.status_reason ?? "no reason given";
    if (order.status === orderStatus.cancelled) throw conflict("ORDER_ALREADY_CANCELLED", `order ${id} is already cancelled (${why})`);
    if (order.status === orderStatus.rejected) throw conflict("ORDER_REJECTED", `order ${id} was rejected (${why}); there is nothing to cancel`);
    const cancelledAt = new Date().toISOString();
    const published = orderEvents.publishStatement([{ type: "OrderCancelled", payload: { orderId: id, tenantId: order.tenant_id, reason, cancelledAt } }], {
      onlyIf: sql`EXISTS (SELECT 1 FROM changed)`,
    });
    const [row] = await db.query<{ changed: boolean }>(sql`
      WITH changed AS (
        UPDATE orders SET status = 'cancelled', status_reason = ${reason}, updated_at = now()
        WHERE id = ${id}::uuid AND status = ${order.status}
        RETURNING 1),
      published AS (${published.statement})
      SELECT EXISTS (SELECT 1 FROM changed) AS changed`);
    if (!row!.changed) return undefined;
    return { id, status: orderStatus.cancelled, previousStatus: order.status, reason, cancelledAt, eventId: published.ids[0]! };
  });
}
